//! Which fields a viewer never receives: what identifies or locates a
//! witness, a contact or a collector. The server drops them from every
//! answer a viewer gets (items, custody events, search filters); the page
//! is not trusted to hide them.

/// Whether a field (of an item or of a custody event) is sensitive.
pub fn is_sensitive(name: &str) -> bool {
    const PREFIXES: &[&str] = &["gps.", "witness", "contact", "location"];
    const SUFFIXES: &[&str] = &[
        ".serial",
        "-serial",
        ".unique-id",
        ".location",
        ".sender",
        ".sender-id",
    ];
    const NAMES: &[&str] = &[
        // Who: the people behind a file or a submission.
        "submitted-by",
        "account",
        "address",
        "by",
        "recipient",
        "source",
        "exif.artist",
        "exif.owner",
        "exif.copyright",
        "iptc.byline",
        "iptc.writer",
        "iptc.credit",
        "xmp.creator",
        "xmp.rights",
        "pdf.author",
        // Where.
        "iptc.city",
        "iptc.country",
        "iptc.province-state",
        "iptc.sublocation",
        "xmp.city",
        "xmp.country",
        "xmp.state",
        // Devices that point at one person.
        "xmp.document-id",
        "xmp.original-document-id",
        "media.content-id",
    ];
    NAMES.contains(&name)
        || PREFIXES.iter().any(|p| name.starts_with(p))
        || SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::is_sensitive;

    #[test]
    fn gps_people_and_places_are_sensitive() {
        for s in [
            "gps.latitude",
            "gps.longitude",
            "witness.name",
            "contact.phone",
            "exif.serial",
            "exif.lens-serial",
            "media.location",
            "xmp.location",
            "iptc.city",
            "submitted-by",
            "account",
            "address",
            "chat.sender",
        ] {
            assert!(is_sensitive(s), "{s}");
        }
        for s in [
            "filename",
            "tags",
            "note",
            "captured-at",
            "exif.make",
            "media.duration",
        ] {
            assert!(!is_sensitive(s), "{s}");
        }
    }
}

# guwah's web pages, in English: the reference every other language follows.
# A test fails when a key here is missing from another language (or there
# without being here), or when a message's variables differ.

## The frame of every page

app-name = guwah
skip-to-content = Skip to the content
nav-items = Items
nav-upload = Submit
nav-audit = Audit trail
nav-users = Accounts
nav-settings = Settings
nav-verify = Verify a package
nav-sign-out = Sign out
signed-in-as = Signed in as { $name } ({ $role })
language-label = Language
language-switch = Change
footer-note = Every original is kept encrypted and sealed in a signed log.

role-admin = admin
role-coordinator = coordinator
role-reviewer = reviewer
role-collector = collector
role-viewer = viewer

## Signing in

login-title = Sign in
login-name = Account name
login-password = Password
login-code = Second-factor code
login-code-help = Only if your account has one: the 6-digit code from your authenticator app, or one of your recovery codes.
login-submit = Sign in
login-failed = Wrong name or password, or the account is disabled.
login-need-code = This account needs its second-factor code.
login-bad-code = The second-factor code is wrong, used already or expired.
login-throttled = Too many attempts. Try again in { $seconds } seconds.
login-bad-name = An account name has lowercase letters a-z, digits and . _ - only.

## The list of items

items-title = Items
filter-legend = Filter the items
filter-text = Words
filter-tag = Tag
filter-media = Media type
filter-media-any = Any
filter-collector = Submitted by
filter-from = Sealed from
filter-to = Sealed until
filter-submit = Filter
filter-clear = Clear the filters
items-count = { $total ->
    [one] One item
   *[other] { $total } items
}
items-none = No item matches.
col-name = File name
col-type = Type
col-size = Size
col-sealed = Sealed
col-tags = Tags
col-collector = Submitted by
no-filename = (no file name)
page-prev = Previous page
page-next = Next page
page-position = Page { $page } of { $pages }

media-image = Image
media-video = Video
media-audio = Audio
media-text = Text
media-application = Document or other file

## One item

item-title = Item { $id }
item-verified = Verified
item-verified-detail = Every field matches its sealed commitment, and the item's record is in the signed log.
item-not-verified = Not verified
item-not-verified-detail = A field held here does not match its sealed commitment.
item-checks = What was checked
check-fields = Each metadata value reproduces the commitment sealed in the record.
check-inclusion = The record is entry { $leaf } of the log, proved against the signed checkpoint of { $size } entries.
check-checkpoint = The signed checkpoint
item-facts = The original
item-sha256 = SHA-256
item-size = Size
item-type = Media type
item-sealed = Sealed at
item-collector-key = Collector's signing key
item-fields = Metadata
field-name = Field
field-value = Value
field-withheld = Withheld from your role
field-not-held = Not held
field-mismatch = Does not match its commitment
item-custody = Custody timeline
custody-when = When
custody-what = What
custody-details = Details
action-added = Sealed
action-exported = Handed over
action-annotated = Annotated
action-derived = Derived copy made
action-transferred = Transferred
action-disclosed = Disclosed
action-received = Received
action-other = Other event
item-preview = Preview
preview-show = Show a preview
preview-recorded = Opening the preview is recorded in the custody timeline.
preview-none = There is no preview for this media type.
preview-no-role = Your role does not see originals.
preview-failed = This image could not be made into a preview.
item-download = Download the original
item-text-preview = The text of the original

## Notes

annotate-title = Add a note
annotate-note = Note
annotate-help = The note is sealed in the log under your account, and cannot be changed afterwards.
annotate-submit = Seal the note
annotate-done = Note sealed as entry { $leaf } of the log.
annotate-empty = A note cannot be empty.

## Submitting from the field

upload-title = Submit evidence
upload-intro = Your files are hashed on this device first, so the server can prove it received exactly what you sent. A cut connection resumes where it stopped.
upload-files = Files
upload-note = Note
upload-captured = When it was captured
upload-source = Where it comes from
upload-submit = Send
upload-hashing = Computing the fingerprint of { $name }…
upload-progress = Sending { $name }: { $percent } %
upload-resuming = Connection lost. Resuming { $name }…
upload-done = Received and sealed: { $name }
upload-failed = Not sent: { $name }. { $reason }
upload-needs-script = Sending files needs JavaScript, so that each file is hashed on this device and resumed after a cut.

## Administration

audit-title = Audit trail
audit-intro = Every sign-in, account change and access to an original, as sealed in the log. Nothing here expires.
audit-when = When
audit-action = Action
audit-item = Item
audit-details = Details
audit-none = Nothing has been recorded yet.
users-title = Accounts
users-name = Name
users-role = Role
users-state = State
users-enabled = Active
users-disabled = Disabled

## Settings

settings-title = Settings
settings-language = Language of the pages for your account
settings-save = Save
settings-saved = Saved.

## Errors

error-title = This did not work
error-not-found = There is nothing here, or it is not for your account.
error-forbidden = Your role does not allow this.
error-csrf = This form is out of date. Reload the page and send it again.
error-bad-request = The request was not understood: check what you entered.
error-too-large = This is too large.
error-server = The server could not do this. The error has been logged.
error-back = Back to the items

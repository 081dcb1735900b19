// Command go-verify checks guwah's log output with an implementation none of
// guwah's authors wrote: Go's golang.org/x/mod/sumdb/note (C2SP signed notes)
// and golang.org/x/mod/sumdb/tlog (RFC 6962 / RFC 9162 Merkle hashing and
// proofs).
//
// It uses only the standard library and golang.org/x/mod, and builds offline
// in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-verify ./tests/peer/go-verify
//
// Usage:
//
//	go-verify -vkey KEY -checkpoint NOTE -leaf LEAF -proof PROOF.json
//	go-verify -vkey KEY -checkpoint NOTE -old-checkpoint OLDNOTE -consistency PROOF.json
//
// KEY is a file holding the verifier key line (`guwah log key`); NOTE and
// OLDNOTE are signed checkpoints (`guwah log checkpoint [--size N]`); LEAF
// holds the exact leaf bytes (`guwah log leaf ID`); PROOF.json is
// `guwah log proof ID --json` ({"leaf_index","tree_size","leaf_hash","hashes"})
// or `guwah log consistency --from N --json` ({"old_size","new_size","hashes"}),
// hashes in standard base64.
//
// It prints one "ok ..." line per check on standard output. On the first
// failing check it prints "FAIL <check>: <why>" on standard error and exits 1;
// usage errors exit 2.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// checkpoint is a parsed C2SP tlog-checkpoint body (c2sp.org/tlog-checkpoint).
type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

type inclusionProof struct {
	LeafIndex *int64   `json:"leaf_index"`
	TreeSize  *int64   `json:"tree_size"`
	LeafHash  *string  `json:"leaf_hash"`
	Hashes    []string `json:"hashes"`
}

type consistencyProof struct {
	OldSize *int64   `json:"old_size"`
	NewSize *int64   `json:"new_size"`
	Hashes  []string `json:"hashes"`
}

func fail(check string, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL %s: %s\n", check, fmt.Sprintf(format, args...))
	os.Exit(1)
}

func ok(format string, args ...interface{}) {
	fmt.Printf("ok   "+format+"\n", args...)
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "go-verify: %s\n", msg)
	flag.Usage()
	os.Exit(2)
}

func readFile(check, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(check, "%v", err)
	}
	return data
}

// decodeHash decodes one standard-base64 SHA-256 hash (padding required).
func decodeHash(check, what, s string) tlog.Hash {
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		fail(check, "%s %q is not standard base64: %v", what, s, err)
	}
	var h tlog.Hash
	if len(raw) != len(h) {
		fail(check, "%s is %d bytes, want %d", what, len(raw), len(h))
	}
	copy(h[:], raw)
	return h
}

func decodeHashes(check string, list []string) []tlog.Hash {
	if list == nil {
		fail(check, "missing \"hashes\"")
	}
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = decodeHash(check, fmt.Sprintf("hashes[%d]", i), s)
	}
	return out
}

// parseCheckpoint parses the note text by hand: origin line, decimal tree
// size, base64 root hash, then optional extension lines. (tlog.ParseTree
// wants the sumdb "go.sum database tree" header, so it does not apply.)
func parseCheckpoint(check, text string) checkpoint {
	if !strings.HasSuffix(text, "\n") {
		fail(check, "checkpoint body does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		fail(check, "checkpoint body has %d lines, want at least 3 (origin, size, root)", len(lines))
	}
	origin := lines[0]
	if origin == "" {
		fail(check, "empty origin line")
	}
	sizeText := lines[1]
	if sizeText == "" || (len(sizeText) > 1 && sizeText[0] == '0') || strings.TrimLeft(sizeText, "0123456789") != "" {
		fail(check, "tree size %q is not a canonical decimal number", sizeText)
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil {
		fail(check, "tree size %q: %v", sizeText, err)
	}
	for i, ext := range lines[3:] {
		if ext == "" {
			fail(check, "extension line %d is empty", i+1)
		}
	}
	return checkpoint{origin: origin, size: size, root: decodeHash(check, "root hash", lines[2])}
}

// openCheckpoint verifies the signed note with the verifier and parses it.
func openCheckpoint(label, path string, verifiers note.Verifiers, keyName string) checkpoint {
	check := label + " signature"
	msg := readFile(check, path)
	n, err := note.Open(msg, verifiers)
	if err != nil {
		fail(check, "note.Open(%s): %v", path, err)
	}
	if len(n.Sigs) == 0 {
		fail(check, "no verified signature")
	}
	ok("%s: note.Open verified %d signature(s) by %s", check, len(n.Sigs), n.Sigs[0].Name)

	check = label + " body"
	cp := parseCheckpoint(check, n.Text)
	if cp.origin != keyName {
		fail(check, "origin %q does not match the key name %q", cp.origin, keyName)
	}
	ok("%s: origin %s, size %d, root %s", check, cp.origin, cp.size, cp.root)
	return cp
}

func main() {
	vkeyPath := flag.String("vkey", "", "file holding the verifier key (output of guwah log key)")
	cpPath := flag.String("checkpoint", "", "signed checkpoint note")
	leafPath := flag.String("leaf", "", "exact leaf bytes (inclusion mode)")
	proofPath := flag.String("proof", "", "inclusion proof JSON (inclusion mode)")
	oldCpPath := flag.String("old-checkpoint", "", "earlier signed checkpoint note (consistency mode)")
	consPath := flag.String("consistency", "", "consistency proof JSON (consistency mode)")
	flag.Parse()
	if flag.NArg() != 0 {
		usage("unexpected arguments")
	}
	if *vkeyPath == "" || *cpPath == "" {
		usage("-vkey and -checkpoint are required")
	}
	inclusion := *leafPath != "" || *proofPath != ""
	consistency := *oldCpPath != "" || *consPath != ""
	switch {
	case inclusion && consistency:
		usage("give either -leaf/-proof or -old-checkpoint/-consistency, not both")
	case inclusion && (*leafPath == "" || *proofPath == ""):
		usage("inclusion needs both -leaf and -proof")
	case consistency && (*oldCpPath == "" || *consPath == ""):
		usage("consistency needs both -old-checkpoint and -consistency")
	case !inclusion && !consistency:
		usage("nothing to check: give -leaf/-proof or -old-checkpoint/-consistency")
	}

	// The verifier key.
	vkey := strings.TrimSpace(string(readFile("vkey", *vkeyPath)))
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("vkey", "note.NewVerifier(%q): %v", vkey, err)
	}
	ok("vkey: note.NewVerifier accepted %s (key hash %08x)", verifier.Name(), verifier.KeyHash())
	verifiers := note.VerifierList(verifier)

	cp := openCheckpoint("checkpoint", *cpPath, verifiers, verifier.Name())

	if inclusion {
		check := "inclusion proof"
		var p inclusionProof
		if err := json.Unmarshal(readFile(check, *proofPath), &p); err != nil {
			fail(check, "JSON: %v", err)
		}
		if p.LeafIndex == nil || p.TreeSize == nil || p.LeafHash == nil {
			fail(check, "JSON lacks leaf_index, tree_size or leaf_hash")
		}
		hashes := decodeHashes(check, p.Hashes)
		if *p.TreeSize != cp.size {
			fail(check, "proof is for tree size %d, checkpoint has size %d", *p.TreeSize, cp.size)
		}
		if *p.LeafIndex < 0 || *p.LeafIndex >= cp.size {
			fail(check, "leaf index %d outside tree of size %d", *p.LeafIndex, cp.size)
		}
		leafHash := decodeHash(check, "leaf_hash", *p.LeafHash)

		leaf := readFile("leaf hash", *leafPath)
		computed := tlog.RecordHash(leaf)
		if computed != leafHash {
			fail("leaf hash", "tlog.RecordHash(leaf) = %s, proof says %s", computed, leafHash)
		}
		ok("leaf hash: tlog.RecordHash(%d leaf bytes) = %s matches the proof", len(leaf), computed)

		if err := tlog.CheckRecord(tlog.RecordProof(hashes), cp.size, cp.root, *p.LeafIndex, leafHash); err != nil {
			fail(check, "tlog.CheckRecord(index %d, size %d): %v", *p.LeafIndex, cp.size, err)
		}
		ok("%s: tlog.CheckRecord: leaf %d is in the tree of size %d (%d hashes)", check, *p.LeafIndex, cp.size, len(hashes))
		return
	}

	old := openCheckpoint("old checkpoint", *oldCpPath, verifiers, verifier.Name())
	check := "consistency proof"
	var p consistencyProof
	if err := json.Unmarshal(readFile(check, *consPath), &p); err != nil {
		fail(check, "JSON: %v", err)
	}
	if p.OldSize == nil || p.NewSize == nil {
		fail(check, "JSON lacks old_size or new_size")
	}
	hashes := decodeHashes(check, p.Hashes)
	if *p.OldSize != old.size {
		fail(check, "proof is from size %d, old checkpoint has size %d", *p.OldSize, old.size)
	}
	if *p.NewSize != cp.size {
		fail(check, "proof is to size %d, checkpoint has size %d", *p.NewSize, cp.size)
	}
	if old.size < 1 || old.size > cp.size {
		fail(check, "old size %d is not in 1..%d", old.size, cp.size)
	}
	if old.size == cp.size && !bytes.Equal(old.root[:], cp.root[:]) {
		fail(check, "two checkpoints of size %d with different roots", cp.size)
	}
	if err := tlog.CheckTree(tlog.TreeProof(hashes), cp.size, cp.root, old.size, old.root); err != nil {
		fail(check, "tlog.CheckTree(%d -> %d): %v", old.size, cp.size, err)
	}
	ok("%s: tlog.CheckTree: size %d is a prefix of size %d (%d hashes)", check, old.size, cp.size, len(hashes))
}

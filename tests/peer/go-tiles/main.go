// Command go-tiles reads a log served by `guwah log serve` over HTTP, as C2SP
// tlog-tiles, with a tile reader none of guwah's authors wrote: Go's
// golang.org/x/mod/sumdb/tlog (TileHashReader checks every tile it reads
// against the signed tree hash) and golang.org/x/mod/sumdb/note.
//
// sumdb names tiles tile/8/<L>/<N>[.p/<W>] and data tiles tile/8/data/<N>;
// C2SP tlog-tiles names them tile/<L>/<N>[.p/<W>] and tile/entries/<N>. The
// TileReader below maps one to the other; the <N> encoding is the same.
//
// It builds offline in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-tiles ./tests/peer/go-tiles
//
// Usage:
//
//	go-tiles -url URL -vkey KEYFILE [-old-size N -old-root BASE64]
//
// It prints one "ok ..." line per check. On the first failing check it prints
// "FAIL <check>: <why>" on standard error and exits 1; usage errors exit 2.
package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var client = &http.Client{Timeout: 30 * time.Second}

func fail(check string, err error) {
	fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", check, err)
	os.Exit(1)
}

// get fetches base/path, at most limit bytes.
func get(base, path string, limit int64) ([]byte, error) {
	resp, err := client.Get(strings.TrimSuffix(base, "/") + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// c2spPath maps a sumdb tile to its C2SP tlog-tiles path.
func c2spPath(t tlog.Tile) string {
	p := t.Path() // tile/8/<L or data>/<N>[.p/<W>]
	prefix := "tile/" + strconv.Itoa(t.H) + "/"
	rest := strings.TrimPrefix(p, prefix)
	if strings.HasPrefix(rest, "data/") {
		return "tile/entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

type tileReader struct {
	base    string
	fetched int
}

func (r *tileReader) Height() int { return 8 }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		limit := int64(t.W) * 32
		if t.L < 0 {
			limit = int64(t.W) * (2 + 65535)
		}
		data, err := get(r.base, c2spPath(t), limit)
		if err != nil {
			return nil, err
		}
		out[i] = data
		r.fetched++
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func main() {
	url := flag.String("url", "", "the log's base URL")
	vkeyFile := flag.String("vkey", "", "file holding the log's verifier key")
	oldSize := flag.Int64("old-size", 0, "an earlier tree size to check consistency with")
	oldRoot := flag.String("old-root", "", "that tree's root hash, base64")
	flag.Parse()
	if *url == "" || *vkeyFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	vkey, err := os.ReadFile(*vkeyFile)
	if err != nil {
		fail("vkey", err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		fail("vkey", err)
	}

	// The checkpoint: a signed note whose text is origin, size, base64 root.
	raw, err := get(*url, "checkpoint", 1<<20)
	if err != nil {
		fail("checkpoint", err)
	}
	n, err := note.Open(raw, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("checkpoint", fmt.Errorf("not a checkpoint of %s: %q", verifier.Name(), n.Text))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint", fmt.Errorf("bad root hash %q", lines[2]))
	}
	var tree tlog.Tree
	tree.N = size
	copy(tree.Hash[:], rootBytes)
	fmt.Printf("ok checkpoint %s size %d\n", verifier.Name(), size)

	// The tree hash, from tiles that TileHashReader checks against tree.Hash.
	tr := &tileReader{base: *url}
	thr := tlog.TileHashReader(tree, tr)
	h, err := tlog.TreeHash(tree.N, thr)
	if err != nil {
		fail("tree-hash", err)
	}
	if h != tree.Hash {
		fail("tree-hash", fmt.Errorf("tiles hash to %v, checkpoint says %v", h, tree.Hash))
	}
	fmt.Printf("ok tree-hash %v\n", h)

	// Every entry: its record hash is the stored leaf hash, and it has an inclusion proof.
	var index int64
	for k := int64(0); k*256 < size; k++ {
		w := size - k*256
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: k, W: int(w)}
		data, err := tr.ReadTiles([]tlog.Tile{t})
		if err != nil {
			fail("entries", err)
		}
		rest := data[0]
		for i := int64(0); i < w; i++ {
			if len(rest) < 2 {
				fail("entries", fmt.Errorf("%s: entry %d truncated", c2spPath(t), i))
			}
			l := int(rest[0])<<8 | int(rest[1])
			if len(rest) < 2+l {
				fail("entries", fmt.Errorf("%s: entry %d truncated", c2spPath(t), i))
			}
			entry := rest[2 : 2+l]
			rest = rest[2+l:]
			hashes, err := thr.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil {
				fail("entries", err)
			}
			if hashes[0] != tlog.RecordHash(entry) {
				fail("entries", fmt.Errorf("entry %d: record hash is not the tile's leaf hash", index))
			}
			p, err := tlog.ProveRecord(size, index, thr)
			if err != nil {
				fail("inclusion", err)
			}
			if err := tlog.CheckRecord(p, size, tree.Hash, index, tlog.RecordHash(entry)); err != nil {
				fail("inclusion", fmt.Errorf("entry %d: %v", index, err))
			}
			index++
		}
		if len(rest) != 0 {
			fail("entries", fmt.Errorf("%s: %d trailing bytes", c2spPath(t), len(rest)))
		}
	}
	if index != size {
		fail("entries", fmt.Errorf("read %d entries, want %d", index, size))
	}
	fmt.Printf("ok entries %d\n", index)

	if *oldSize > 0 {
		ob, err := base64.StdEncoding.DecodeString(*oldRoot)
		if err != nil || len(ob) != tlog.HashSize {
			fail("consistency", fmt.Errorf("bad -old-root %q", *oldRoot))
		}
		var old tlog.Hash
		copy(old[:], ob)
		p, err := tlog.ProveTree(size, *oldSize, thr)
		if err != nil {
			fail("consistency", err)
		}
		if err := tlog.CheckTree(p, size, tree.Hash, *oldSize, old); err != nil {
			fail("consistency", err)
		}
		fmt.Printf("ok consistency %d -> %d\n", *oldSize, size)
	}
	fmt.Printf("ok tiles-fetched %d\n", tr.fetched)
}

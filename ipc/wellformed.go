package ipc

import (
	"encoding/binary"
	"errors"
)

// maxDepth bounds the nesting of a message.
const maxDepth = 32

var errMalformed = errors.New("truncated or oversized msgpack")

// wellFormed checks that data holds exactly one msgpack value whose every
// declared length fits in the bytes that follow it, before the decoder sees
// it. The decoder sizes buffers from those lengths, so a 20-byte message
// claiming a 3 GB string would otherwise cost memory, not just an error.
func wellFormed(data []byte) error {
	n, err := skipValue(data, 0)
	if err != nil {
		return err
	}
	if n != len(data) {
		return errors.New("trailing bytes after the msgpack value")
	}
	return nil
}

// skipValue returns the length of the value at the start of b.
func skipValue(b []byte, depth int) (int, error) {
	if len(b) == 0 {
		return 0, errMalformed
	}
	if depth > maxDepth {
		return 0, errors.New("msgpack nested too deeply")
	}
	c := b[0]
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, bool
		return 1, nil
	case c >= 0x80 && c <= 0x8f: // fixmap
		return skipItems(b, 1, 2*int(c&0x0f), depth)
	case c >= 0x90 && c <= 0x9f: // fixarray
		return skipItems(b, 1, int(c&0x0f), depth)
	case c >= 0xa0 && c <= 0xbf: // fixstr
		return span(b, 1, int(c&0x1f))
	}
	switch c {
	case 0xcc, 0xd0:
		return span(b, 1, 1)
	case 0xcd, 0xd1:
		return span(b, 1, 2)
	case 0xca, 0xce, 0xd2:
		return span(b, 1, 4)
	case 0xcb, 0xcf, 0xd3:
		return span(b, 1, 8)
	case 0xc4, 0xd9: // bin8, str8
		l, h, err := length(b, 1)
		if err != nil {
			return 0, err
		}
		return span(b, h, l)
	case 0xc5, 0xda: // bin16, str16
		l, h, err := length(b, 2)
		if err != nil {
			return 0, err
		}
		return span(b, h, l)
	case 0xc6, 0xdb: // bin32, str32
		l, h, err := length(b, 4)
		if err != nil {
			return 0, err
		}
		return span(b, h, l)
	case 0xdc, 0xde: // array16, map16
		l, h, err := length(b, 2)
		if err != nil {
			return 0, err
		}
		if c == 0xde {
			l *= 2
		}
		return skipItems(b, h, l, depth)
	case 0xdd, 0xdf: // array32, map32
		l, h, err := length(b, 4)
		if err != nil {
			return 0, err
		}
		if c == 0xdf {
			l *= 2
		}
		return skipItems(b, h, l, depth)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1..16: type byte + data
		return span(b, 2, 1<<(c-0xd4))
	case 0xc7, 0xc8, 0xc9: // ext8/16/32: length, type byte, data
		w := map[byte]int{0xc7: 1, 0xc8: 2, 0xc9: 4}[c]
		l, h, err := length(b, w)
		if err != nil {
			return 0, err
		}
		return span(b, h+1, l)
	}
	return 0, errors.New("invalid msgpack code")
}

// length reads a big-endian length of w bytes after the code byte.
func length(b []byte, w int) (l, header int, err error) {
	if len(b) < 1+w {
		return 0, 0, errMalformed
	}
	switch w {
	case 1:
		l = int(b[1])
	case 2:
		l = int(binary.BigEndian.Uint16(b[1:]))
	case 4:
		l = int(binary.BigEndian.Uint32(b[1:]))
	}
	return l, 1 + w, nil
}

func span(b []byte, header, l int) (int, error) {
	if l < 0 || header+l > len(b) {
		return 0, errMalformed
	}
	return header + l, nil
}

func skipItems(b []byte, header, items, depth int) (int, error) {
	if items > len(b)-header { // every item takes at least a byte
		return 0, errMalformed
	}
	pos := header
	for i := 0; i < items; i++ {
		n, err := skipValue(b[pos:], depth+1)
		if err != nil {
			return 0, err
		}
		pos += n
	}
	return pos, nil
}

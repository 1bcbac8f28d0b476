package ipc

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// The envelope is a msgpack array, written field by field so the body is
// encoded straight into the message and decoded in place, without a copy:
//
//	request: [op, cred|nil, body]
//	reply:   [errno, msg, body]
//
// Cred is honoured only from kernel callers (see CallerKernel); a confined
// caller's credentials are the ones its process has.

// Cred is the identity a call acts with.
type Cred struct {
	_msgpack struct{} `msgpack:",as_array"`
	UID      uint32
	GID      uint32
	Groups   []uint32
}

// Root is the superuser's credential.
var Root = Cred{}

// InGroup tells whether the credential is a member of gid.
func (c *Cred) InGroup(gid uint32) bool {
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// ErrBadMessage wraps every decoding failure of an envelope or a body.
var ErrBadMessage = errors.New("malformed message")

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 { // do not pin huge buffers
		bufPool.Put(b)
	}
}

// appendRequest encodes a request envelope into buf.
func appendRequest(buf *bytes.Buffer, op Op, cred *Cred, body any) error {
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	enc.UseCompactInts(true)
	if err := enc.EncodeArrayLen(3); err != nil {
		return err
	}
	if err := enc.EncodeUint16(uint16(op)); err != nil {
		return err
	}
	if cred == nil {
		if err := enc.EncodeNil(); err != nil {
			return err
		}
	} else if err := enc.Encode(cred); err != nil {
		return err
	}
	if err := enc.Encode(body); err != nil {
		return fmt.Errorf("ipc: encode %v request: %w", op, err)
	}
	return nil
}

// appendReply encodes a reply envelope into buf.
func appendReply(buf *bytes.Buffer, errno Errno, msg string, body any) error {
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	enc.UseCompactInts(true)
	if err := enc.EncodeArrayLen(3); err != nil {
		return err
	}
	if err := enc.EncodeUint16(uint16(errno)); err != nil {
		return err
	}
	if err := enc.EncodeString(msg); err != nil {
		return err
	}
	return enc.Encode(body)
}

// EncodeRequest returns a request envelope as bytes.
func EncodeRequest(op Op, cred *Cred, body any) ([]byte, error) {
	buf := getBuf()
	defer putBuf(buf)
	if err := appendRequest(buf, op, cred, body); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// EncodeReply returns a reply envelope as bytes.
func EncodeReply(errno Errno, msg string, body any) ([]byte, error) {
	buf := getBuf()
	defer putBuf(buf)
	if err := appendReply(buf, errno, msg, body); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// DecodeRequest splits a request envelope. body aliases data.
func DecodeRequest(data []byte) (op Op, cred *Cred, body []byte, err error) {
	if err := wellFormed(data); err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	r := bytes.NewReader(data)
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(r)
	n, err := dec.DecodeArrayLen()
	if err != nil || n != 3 {
		return 0, nil, nil, fmt.Errorf("%w: request envelope is not a 3-array", ErrBadMessage)
	}
	o, err := dec.DecodeUint16()
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: op: %v", ErrBadMessage, err)
	}
	c, err := decodeCred(dec)
	if err != nil {
		return 0, nil, nil, err
	}
	return Op(o), c, data[len(data)-r.Len():], nil
}

func decodeCred(dec *msgpack.Decoder) (*Cred, error) {
	code, err := dec.PeekCode()
	if err != nil {
		return nil, fmt.Errorf("%w: cred: %v", ErrBadMessage, err)
	}
	if code == 0xc0 { // nil
		_ = dec.Skip()
		return nil, nil
	}
	c := new(Cred)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%w: cred: %v", ErrBadMessage, err)
	}
	return c, nil
}

// DecodeReply splits a reply envelope. body aliases data.
func DecodeReply(data []byte) (errno Errno, msg string, body []byte, err error) {
	if err := wellFormed(data); err != nil {
		return 0, "", nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	r := bytes.NewReader(data)
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(r)
	n, err := dec.DecodeArrayLen()
	if err != nil || n != 3 {
		return 0, "", nil, fmt.Errorf("%w: reply envelope is not a 3-array", ErrBadMessage)
	}
	e, err := dec.DecodeUint16()
	if err != nil {
		return 0, "", nil, fmt.Errorf("%w: errno: %v", ErrBadMessage, err)
	}
	msg, err = dec.DecodeString()
	if err != nil {
		return 0, "", nil, fmt.Errorf("%w: message: %v", ErrBadMessage, err)
	}
	return Errno(e), msg, data[len(data)-r.Len():], nil
}

// Decode decodes a message body into v. The body is checked first: every
// length it declares must fit in it.
func Decode(body []byte, v any) error {
	if err := wellFormed(body); err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	return decodeChecked(body, v)
}

// decodeChecked decodes a body whose envelope was checked already.
func decodeChecked(body []byte, v any) error {
	if err := msgpack.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	return nil
}

// Encode encodes a value as msgpack (for journal records and KV values).
func Encode(v any) ([]byte, error) {
	buf := getBuf()
	defer putBuf(buf)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

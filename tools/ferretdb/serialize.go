package main

// FerretDB v1 applies an update by reading the document, changing it in Go and writing it back, with no
// lock between the two: concurrent updates of one document overwrite each other (20 clients x 25 $inc
// left 34 of 500). MongoDB applies each single-document write atomically, and code written for MongoDB
// relies on it. This proxy restores that guarantee on the local stack: it sits in front of FerretDB and
// lets one write command per collection through at a time, holding the collection's lock from the
// request until FerretDB's reply. Reads are not held up.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
)

const (
	opMsg          = 2013
	headerLen      = 16
	maxMessageSize = 48 << 20
	flagMoreToCome = 1 << 1
)

// writeCommands are the commands that change documents.
var writeCommands = map[string]bool{"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true}

type serializer struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex // collection name → its write lock
}

func (s *serializer) lockFor(collection string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[collection]
	if !ok {
		l = &sync.Mutex{}
		s.locks[collection] = l
	}
	return l
}

// serve accepts clients on ln and pipes each to a new connection to FerretDB made by dial.
func (s *serializer) serve(ln net.Listener, dial func() (net.Conn, error)) error {
	for {
		client, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			server, err := dial()
			if err != nil {
				log.Printf("ordersaga-ferretdb: cannot reach FerretDB: %v", err)
				client.Close()
				return
			}
			s.pipe(client, server)
		}()
	}
}

// pipe forwards messages both ways; a write command's collection lock is held until its reply passes.
func (s *serializer) pipe(client, server net.Conn) {
	var pendingMu sync.Mutex
	pending := map[int32]*sync.Mutex{} // request id → lock held for it
	releaseAll := func() {
		pendingMu.Lock()
		defer pendingMu.Unlock()
		for id, l := range pending {
			l.Unlock()
			delete(pending, id)
		}
	}
	done := make(chan struct{}, 2)
	go func() { // client → FerretDB
		defer func() { done <- struct{}{} }()
		for {
			msg, err := readMessage(client)
			if err != nil {
				return
			}
			requestID := int32(binary.LittleEndian.Uint32(msg[4:8]))
			if collection, ok := writeTarget(msg); ok {
				l := s.lockFor(collection)
				l.Lock()
				if moreToCome(msg) { // no reply will come: hold the lock only while it is handed over
					_, err = server.Write(msg)
					l.Unlock()
				} else {
					pendingMu.Lock()
					pending[requestID] = l
					pendingMu.Unlock()
					_, err = server.Write(msg)
				}
			} else {
				_, err = server.Write(msg)
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { // FerretDB → client
		defer func() { done <- struct{}{} }()
		for {
			msg, err := readMessage(server)
			if err != nil {
				return
			}
			responseTo := int32(binary.LittleEndian.Uint32(msg[8:12]))
			if _, err := client.Write(msg); err != nil {
				return
			}
			pendingMu.Lock()
			if l, ok := pending[responseTo]; ok {
				delete(pending, responseTo)
				l.Unlock()
			}
			pendingMu.Unlock()
		}
	}()
	<-done
	client.Close()
	server.Close()
	<-done
	releaseAll()
}

func readMessage(r io.Reader) ([]byte, error) {
	header := make([]byte, headerLen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, err
	}
	size := int(binary.LittleEndian.Uint32(header[0:4]))
	if size < headerLen || size > maxMessageSize {
		return nil, fmt.Errorf("bad message length %d", size)
	}
	msg := make([]byte, size)
	copy(msg, header)
	if _, err := io.ReadFull(r, msg[headerLen:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func moreToCome(msg []byte) bool {
	return len(msg) >= headerLen+4 && binary.LittleEndian.Uint32(msg[headerLen:headerLen+4])&flagMoreToCome != 0
}

// writeTarget returns the collection of an OP_MSG write command: the command is the first element of the
// body section (kind 0), and its value is the collection's name.
func writeTarget(msg []byte) (string, bool) {
	if binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return "", false
	}
	body := msg[headerLen+4:] // after flagBits
	if len(body) < 1 || body[0] != 0 {
		return "", false
	}
	doc := body[1:]
	if len(doc) < 5 {
		return "", false
	}
	elem := doc[4:]      // after the document's length
	if elem[0] != 0x02 { // the command's value must be a string (the collection)
		return "", false
	}
	name, rest, err := cstring(elem[1:])
	if err != nil || !writeCommands[name] || len(rest) < 4 {
		return "", false
	}
	n := int(binary.LittleEndian.Uint32(rest[0:4]))
	if n < 1 || len(rest) < 4+n {
		return "", false
	}
	return string(rest[4 : 4+n-1]), true
}

func cstring(b []byte) (string, []byte, error) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), b[i+1:], nil
		}
	}
	return "", nil, errors.New("unterminated cstring")
}

// Command capi is the C ABI over core/, built with -buildmode=c-shared into
// libbigdl.so. bigdl.h documents it; including it here makes the C compiler
// check that the exported Go functions match the documented prototypes.
package main

/*
#include <stdlib.h>
#include "bigdl.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/mem"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func main() {}

// BIGDL_CORE_NUMBER bounds every computation of the process (training,
// prediction, evaluation) to that many cores.
func init() {
	if v := os.Getenv("BIGDL_CORE_NUMBER"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			runtime.GOMAXPROCS(n)
			kernels.SetMaxThreads(n)
		}
	}
}

// Status codes, as in bigdl.h.
const (
	statusOK        = 0
	statusValue     = 1
	statusInternal  = 2
	statusIO        = 3
	statusHandle    = 4
	statusCancelled = 5
	statusMemory    = 6
)

// codedError carries the status an error maps to.
type codedError struct {
	status int
	err    error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withStatus(status int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{status, err}
}

func statusOf(err error) int {
	var c *codedError
	if errors.As(err, &c) {
		return c.status
	}
	var oom *mem.OutOfMemoryError
	if errors.As(err, &oom) {
		return statusMemory
	}
	var re runtime.Error
	if errors.As(err, &re) {
		return statusInternal
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return statusIO
	}
	return statusValue
}

// panicError turns a recovered panic into an error: layers panic with error
// values for misuse (a ValueError in Python); anything else is a bug.
func panicError(r any) error {
	switch v := r.(type) {
	case runtime.Error:
		return withStatus(statusInternal, fmt.Errorf("internal error in bigdl-go: %v", v))
	case error:
		return v
	default:
		return withStatus(statusInternal, fmt.Errorf("internal error in bigdl-go: %v", v))
	}
}

// outOfMemoryIn names what was being built or called when a buffer did not
// fit in memory: the allocation itself knows only its size.
func outOfMemoryIn(err error, what string) error {
	var oom *mem.OutOfMemoryError
	if errors.As(err, &oom) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return err
}

// finish stores err in *errOut and returns its status.
func finish(err error, errOut **C.char) C.int {
	if err == nil {
		return statusOK
	}
	if errOut != nil {
		*errOut = C.CString(err.Error())
	}
	return C.int(statusOf(err))
}

// handles maps the integers Python holds to Go objects. Numbers are never
// reused, so a freed handle stays invalid.
var handles = struct {
	sync.Mutex
	next uint64
	m    map[uint64]any
}{next: 1, m: map[uint64]any{}}

func newHandle(v any) uint64 {
	handles.Lock()
	defer handles.Unlock()
	h := handles.next
	handles.next++
	handles.m[h] = v
	return h
}

func lookup(h uint64) (any, error) {
	handles.Lock()
	defer handles.Unlock()
	v, ok := handles.m[h]
	if !ok {
		return nil, withStatus(statusHandle, fmt.Errorf("handle %d is not valid: the object was freed", h))
	}
	return v, nil
}

//export bigdl_new
func bigdl_new(class *C.char, args *C.char, out *C.bigdl_handle, errOut **C.char) (status C.int) {
	defer func() {
		if r := recover(); r != nil {
			status = finish(outOfMemoryIn(panicError(r), C.GoString(class)+" "+C.GoString(args)), errOut)
		}
	}()
	var a map[string]any
	if err := decodeJSON(C.GoString(args), &a); err != nil {
		return finish(err, errOut)
	}
	v, err := newObject(C.GoString(class), a)
	if err != nil {
		return finish(err, errOut)
	}
	*out = C.bigdl_handle(newHandle(v))
	return statusOK
}

// request is one bigdl_call: its JSON arguments and input tensors.
type request struct {
	args    map[string]any
	tensors []*tensor.Tensor
}

// response is what a method returns: a JSON-able result and output tensors.
type response struct {
	result  any
	tensors []*tensor.Tensor
}

//export bigdl_call
func bigdl_call(h C.bigdl_handle, method *C.char, args *C.char, nIn C.int, data **C.float, ndims *C.int,
	shapes *C.int64_t, jsonOut **C.char, tensorsOut *C.bigdl_handle, errOut **C.char) (status C.int) {
	defer func() {
		if r := recover(); r != nil {
			status = finish(outOfMemoryIn(panicError(r), C.GoString(method)), errOut)
		}
	}()
	req := &request{}
	if err := decodeJSON(C.GoString(args), &req.args); err != nil {
		return finish(err, errOut)
	}
	if req.args == nil {
		req.args = map[string]any{}
	}
	ins, err := copyTensors(int(nIn), data, ndims, shapes)
	if err != nil {
		return finish(err, errOut)
	}
	req.tensors = ins
	if req.tensors, err = req.activities(); err != nil {
		return finish(err, errOut)
	}
	name := C.GoString(method)
	var resp response
	if h == 0 {
		resp, err = callLibrary(name, req)
	} else {
		var obj any
		if obj, err = lookup(uint64(h)); err == nil {
			resp, err = callObject(obj, name, req)
		}
	}
	if err != nil {
		return finish(err, errOut)
	}
	out := map[string]any{"result": resp.result}
	if nests := flattenTables(&resp); nests != nil {
		out["tables"] = nests
	}
	if resp.tensors != nil {
		shapesOut := make([][]int, len(resp.tensors))
		for i, t := range resp.tensors {
			shapesOut[i] = append([]int{}, t.Shape...) // a scalar's is [], not null
		}
		out["shapes"] = shapesOut
		if tensorsOut == nil {
			return finish(fmt.Errorf("%s returns tensors but no place to put them was given", name), errOut)
		}
		*tensorsOut = C.bigdl_handle(newHandle(resp.tensors))
	}
	if jsonOut != nil {
		b, err := json.Marshal(out)
		if err != nil {
			return finish(withStatus(statusInternal, err), errOut)
		}
		*jsonOut = C.CString(string(b))
	}
	return statusOK
}

// activities is the call's inputs: its tensors, grouped into tables when the
// "tables" argument describes them (one nesting per input, see tensor.Nest).
// Every tensor passed must be used exactly once.
func (r *request) activities() ([]*tensor.Tensor, error) {
	spec, ok := r.args["tables"]
	if !ok || spec == nil {
		return r.tensors, nil
	}
	list, ok := spec.([]any)
	if !ok {
		return nil, fmt.Errorf("argument tables must be a list of nestings, got %v", spec)
	}
	out := make([]*tensor.Tensor, len(list))
	used := 0
	for i, n := range list {
		a, err := tensor.Nest(n, r.tensors)
		if err != nil {
			return nil, err
		}
		out[i] = a
		used += len(a.Leaves())
	}
	if used != len(r.tensors) {
		return nil, fmt.Errorf("table nestings use %d tensors, but %d were given", used, len(r.tensors))
	}
	return out, nil
}

// flattenTables replaces tables among a response's tensors by their leaves
// and returns the nesting of every output (nil when there is no table), so
// a table crosses the ABI in the same call as a tensor.
func flattenTables(resp *response) []any {
	hasTable := false
	for _, t := range resp.tensors {
		hasTable = hasTable || t.IsTable()
	}
	if !hasTable {
		return nil
	}
	var leaves []*tensor.Tensor
	var nest func(t *tensor.Tensor) any
	nest = func(t *tensor.Tensor) any {
		if !t.IsTable() {
			leaves = append(leaves, t)
			return len(leaves) - 1
		}
		out := make([]any, len(t.Table))
		for i, e := range t.Table {
			out[i] = nest(e)
		}
		return out
	}
	nests := make([]any, len(resp.tensors))
	for i, t := range resp.tensors {
		nests[i] = nest(t)
	}
	if leaves == nil {
		leaves = []*tensor.Tensor{}
	}
	resp.tensors = leaves
	return nests
}

func copyTensors(n int, data **C.float, ndims *C.int, shapes *C.int64_t) ([]*tensor.Tensor, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 || data == nil || ndims == nil {
		return nil, fmt.Errorf("bad tensor list: %d tensors", n)
	}
	ptrs := unsafe.Slice(data, n)
	ranks := unsafe.Slice(ndims, n)
	total := 0
	for _, r := range ranks {
		total += int(r)
	}
	var dims []C.int64_t
	if total > 0 {
		dims = unsafe.Slice(shapes, total)
	}
	out := make([]*tensor.Tensor, n)
	off := 0
	for i := 0; i < n; i++ {
		shape := make([]int, int(ranks[i]))
		for j := range shape {
			if dims[off+j] < 0 {
				return nil, fmt.Errorf("tensor %d has a negative dimension", i)
			}
			shape[j] = int(dims[off+j])
		}
		off += len(shape)
		t := tensor.New(shape...)
		if t.Len() > 0 {
			if ptrs[i] == nil {
				return nil, fmt.Errorf("tensor %d has no data", i)
			}
			copy(t.Data, unsafe.Slice((*float32)(unsafe.Pointer(ptrs[i])), t.Len()))
		}
		out[i] = t
	}
	return out, nil
}

//export bigdl_tensors_read
func bigdl_tensors_read(list C.bigdl_handle, index C.int, dst *C.float, count C.int64_t, errOut **C.char) (status C.int) {
	defer func() {
		if r := recover(); r != nil {
			status = finish(panicError(r), errOut)
		}
	}()
	v, err := lookup(uint64(list))
	if err != nil {
		return finish(err, errOut)
	}
	ts, ok := v.([]*tensor.Tensor)
	if ok && index == -1 {
		// Every tensor, back to back: a table's leaves come out in one call.
		total := 0
		for _, t := range ts {
			total += t.Len()
		}
		if int(count) != total {
			return finish(fmt.Errorf("the tensors hold %d values, not %d", total, count), errOut)
		}
		if total > 0 {
			dstAll := unsafe.Slice((*float32)(unsafe.Pointer(dst)), total)
			off := 0
			for _, t := range ts {
				off += copy(dstAll[off:], t.Data)
			}
		}
		return statusOK
	}
	if !ok || int(index) < 0 || int(index) >= len(ts) {
		return finish(fmt.Errorf("handle %d has no tensor %d", list, index), errOut)
	}
	t := ts[index]
	if int(count) != t.Len() {
		return finish(fmt.Errorf("tensor %d holds %d values, not %d", index, t.Len(), count), errOut)
	}
	if t.Len() > 0 {
		copy(unsafe.Slice((*float32)(unsafe.Pointer(dst)), t.Len()), t.Data)
	}
	return statusOK
}

//export bigdl_free
func bigdl_free(h C.bigdl_handle) {
	defer func() { recover() }()
	handles.Lock()
	v := handles.m[uint64(h)]
	delete(handles.m, uint64(h))
	handles.Unlock()
	if o, ok := v.(interface{ release() }); ok { // optimizers cancel, comms close their sockets
		o.release()
	}
}

//export bigdl_free_string
func bigdl_free_string(s *C.char) {
	C.free(unsafe.Pointer(s))
}

func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("arguments are not valid JSON: %w", err)
	}
	return nil
}

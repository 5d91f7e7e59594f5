package nn

import "github.com/bigdl-go/bigdl-go/core/tensor"

// MethodCaller is a layer with methods of its own beyond Module's (BigDL's
// SpatialMaxPooling.ceil(), BatchNormalization.set_running_mean), which the
// C ABI reaches by name, so a new layer method needs no ABI change.
type MethodCaller interface {
	// CallMethod runs method with JSON-decoded args and input tensors;
	// handled is false when the layer has no such method.
	CallMethod(method string, args map[string]any, in []*tensor.Tensor) (result any, out []*tensor.Tensor, handled bool, err error)
}

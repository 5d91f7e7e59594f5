package main

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/optim"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/serial"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Version is the library's version, reported by "info".
const Version = "0.1.0"

// methodObj is an optim method shared by the optimizers that use it, so its
// state (step count, momentum) carries over between optimize() calls, as
// BigDL's OptimMethod objects do. It also keeps what saving it needs: its
// constructor arguments and where its last run stood (persist.go).
type methodObj struct {
	optim.Method
	args map[string]any
	runs runPosition
}

func newObject(class string, args map[string]any) (any, error) {
	switch class {
	case "Optimizer":
		return newOptimizer(args)
	case "Comm":
		return newComm(args)
	case "PerModule":
		return newPerModule(args)
	case "TrainSummary":
		return newSummary("train", args)
	case "ValidationSummary":
		return newSummary("validation", args)
	case "Model":
		if _, ok := args["layers"]; ok {
			return newGraph(args)
		}
	}
	switch {
	case nn.IsClass(class):
		return nn.New(class, args)
	case criterion.IsClass(class):
		return criterion.New(class, args)
	}
	m, err := optim.NewMethod(class, args)
	if err != nil {
		return nil, err
	}
	return &methodObj{Method: m, args: args}, nil
}

func callObject(obj any, method string, req *request) (response, error) {
	if resp, ok, err := callDist(obj, method, req); ok {
		return resp, err
	}
	switch o := obj.(type) {
	case nn.Module:
		return callModule(o, method, req)
	case criterion.Criterion:
		return callCriterion(o, method, req)
	case *optimizer:
		return o.call(method, req)
	case *summaryObj:
		return o.call(method, req)
	case *methodObj:
		if method == "config" {
			return response{result: map[string]any{"class": o.Class(), "args": o.Config(), "learningrate": o.LearningRate()}}, nil
		}
		return o.call(method, req)
	}
	return response{}, fmt.Errorf("%T has no method %q", obj, method)
}

// newGraph builds a graph Model from layer handles and the nodes' wiring:
// {"layers": [handle per node], "prev": [[node indices]], "inputs", "outputs"}.
func newGraph(args map[string]any) (any, error) {
	list, ok := args["layers"].([]any)
	if !ok {
		return nil, fmt.Errorf("Model: layers must be a list of layer handles")
	}
	mods := make([]nn.Module, len(list))
	for i := range list {
		v, err := argHandle(map[string]any{"h": list[i]}, "h")
		if err != nil {
			return nil, fmt.Errorf("Model: node %d: %w", i+1, err)
		}
		m, ok := v.(nn.Module)
		if !ok {
			return nil, fmt.Errorf("Model: node %d is not a layer", i+1)
		}
		mods[i] = m
	}
	a := nn.NewArgs("Model", args)
	prevSpec, _ := args["prev"].([]any)
	prev := make([][]int, len(prevSpec))
	for i, p := range prevSpec {
		prev[i] = nn.NewArgs("Model", map[string]any{"prev": p}).Ints("prev")
	}
	inputs, outputs := a.Ints("inputs"), a.Ints("outputs")
	if a.Err() != nil {
		return nil, a.Err()
	}
	return nn.NewGraph(mods, prev, inputs, outputs, nil)
}

// needTensors checks a call got exactly n input tensors.
func needTensors(method string, req *request, n int) error {
	if len(req.tensors) != n {
		return fmt.Errorf("%s takes %d tensors, got %d", method, n, len(req.tensors))
	}
	return nil
}

func argString(req *request, name string) (string, error) {
	s, ok := req.args[name].(string)
	if !ok {
		return "", fmt.Errorf("argument %s must be a string", name)
	}
	return s, nil
}

// argStrings reads an optional list of strings.
func argStrings(req *request, name string) ([]string, error) {
	var out []string
	list, _ := req.args[name].([]any)
	for _, n := range list {
		s, ok := n.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be strings, got %v", name, n)
		}
		out = append(out, s)
	}
	return out, nil
}

func argBool(req *request, name string) bool {
	b, _ := req.args[name].(bool)
	return b
}

func argInt(req *request, name string) (int, error) {
	f, ok := req.args[name].(float64)
	if !ok || f != math.Trunc(f) {
		return 0, fmt.Errorf("argument %s must be an integer, got %v", name, req.args[name])
	}
	return int(f), nil
}

// argHandle resolves a handle passed inside the JSON arguments.
func argHandle(args map[string]any, name string) (any, error) {
	f, ok := args[name].(float64)
	if !ok {
		return nil, fmt.Errorf("argument %s must be an object handle", name)
	}
	return lookup(uint64(f))
}

func callModule(m nn.Module, method string, req *request) (response, error) {
	switch method {
	case "forward":
		if err := needTensors(method, req, 1); err != nil {
			return response{}, err
		}
		return response{tensors: []*tensor.Tensor{nn.Forward(m, req.tensors[0]).Clone()}}, nil
	case "backward":
		if err := needTensors(method, req, 2); err != nil {
			return response{}, err
		}
		gx := nn.Backward(m, req.tensors[0], req.tensors[1]).Clone()
		nn.AddRegularization(m) // BigDL's backward adds the penalties' gradients
		return response{tensors: []*tensor.Tensor{gx}}, nil
	case "get_weights", "get_grads":
		var out []*tensor.Tensor
		for _, p := range nn.AllParams(m) {
			if method == "get_weights" {
				out = append(out, p.Value.Clone())
			} else {
				out = append(out, p.Grad.Clone())
			}
		}
		if out == nil {
			out = []*tensor.Tensor{}
		}
		return response{tensors: out}, nil
	case "set_weights":
		return response{}, setWeights(m, req.tensors)
	case "get_extra_parameters":
		out := []*tensor.Tensor{}
		for _, e := range nn.AllExtraParams(m) {
			out = append(out, e.Clone())
		}
		return response{tensors: out}, nil
	case "parameters":
		type entry struct {
			Layer  string   `json:"layer"`
			Params []string `json:"params"`
		}
		entries := []entry{}
		out := []*tensor.Tensor{}
		nn.Walk(m, func(x nn.Module) {
			ps := x.Params()
			if len(ps) == 0 {
				return
			}
			e := entry{Layer: x.Meta().Name()}
			for _, p := range ps {
				e.Params = append(e.Params, p.Name)
				out = append(out, p.Value.Clone(), p.Grad.Clone())
			}
			entries = append(entries, e)
		})
		return response{result: entries, tensors: out}, nil
	case "zero_grad_parameters":
		nn.ZeroGrads(m)
		return response{}, nil
	case "update_parameters":
		lr, ok := req.args["learning_rate"].(float64)
		if !ok {
			return response{}, fmt.Errorf("update_parameters: learning_rate must be a number")
		}
		for _, p := range nn.AllParams(m) {
			for i, g := range p.Grad.Data {
				p.Value.Data[i] -= float32(lr) * g
			}
		}
		return response{}, nil
	case "reset":
		m.Reset()
		return response{}, nil
	case "set_regularizer":
		kind, err := argString(req, "kind")
		if err != nil {
			return response{}, err
		}
		spec, _ := req.args["reg"].(map[string]any)
		r, err := nn.NewRegularizer(spec)
		if err != nil {
			return response{}, err
		}
		return response{}, nn.SetRegularizer(m, kind, r)
	case "set_init_method":
		w, _ := req.args["weight"].(map[string]any)
		b, _ := req.args["bias"].(map[string]any)
		return response{}, nn.SetInitMethods(m, w, b)
	case "training":
		nn.SetTraining(m, argBool(req, "on"))
		return response{}, nil
	case "is_training":
		return response{result: m.Meta().Training()}, nil
	case "name":
		return response{result: m.Meta().Name()}, nil
	case "set_name":
		name, err := argString(req, "name")
		if err != nil {
			return response{}, err
		}
		m.Meta().SetName(name)
		return response{}, nil
	case "describe":
		return response{result: nn.Describe(m)}, nil
	case "string":
		return response{result: m.String()}, nil
	case "add":
		c, ok := m.(nn.Container)
		if !ok {
			return response{}, fmt.Errorf("%s is not a container", m.Meta().Name())
		}
		child, err := argHandle(req.args, "child")
		if err != nil {
			return response{}, err
		}
		cm, ok := child.(nn.Module)
		if !ok {
			return response{}, fmt.Errorf("add: expected a layer, got a %T", child)
		}
		return response{}, c.Add(cm)
	case "children":
		hs := []uint64{}
		if c, ok := m.(nn.Container); ok {
			for _, ch := range c.Children() {
				hs = append(hs, newHandle(ch))
			}
		}
		return response{result: hs}, nil
	case "stop_gradient":
		g, ok := m.(*nn.Graph)
		if !ok {
			return response{}, fmt.Errorf("stop_gradient: %s is not a graph Model", m.Meta().Name())
		}
		names, err := argStrings(req, "names")
		if err != nil {
			return response{}, err
		}
		return response{}, g.StopGradient(names)
	case "graph":
		g, ok := m.(*nn.Graph)
		if !ok {
			return response{}, fmt.Errorf("%s is not a graph Model", m.Meta().Name())
		}
		c := g.Config()
		hs := []uint64{}
		for _, ch := range g.Children() {
			hs = append(hs, newHandle(ch))
		}
		return response{result: map[string]any{"nodes": hs, "prev": c["prev"], "inputs": c["inputs"], "outputs": c["outputs"]}}, nil
	case "save_graph_topology":
		g, ok := m.(*nn.Graph)
		if !ok {
			return response{}, fmt.Errorf("save_graph_topology: %s is not a graph Model", m.Meta().Name())
		}
		dir, err := argString(req, "log_dir")
		if err != nil {
			return response{}, fmt.Errorf("save_graph_topology: %w", err)
		}
		return response{}, withStatus(statusIO, saveGraphTopology(g, dir))
	case "hidden_state":
		r, ok := m.(interface {
			HiddenState() ([]*tensor.Tensor, error)
		})
		if !ok {
			return response{}, fmt.Errorf("get_hidden_state: %s is not a Recurrent", m.Meta().Name())
		}
		states, err := r.HiddenState()
		return response{tensors: states}, err
	case "freeze", "unfreeze":
		names, err := argStrings(req, "names")
		if err != nil {
			return response{}, fmt.Errorf("%s: %w", method, err)
		}
		return response{}, nn.SetFrozen(m, method == "freeze", names...)
	case "save":
		path, err := argString(req, "path")
		if err != nil {
			return response{}, err
		}
		if wp, _ := req.args["weight_path"].(string); wp != "" {
			return response{}, withStatus(statusIO, serial.SaveSplit(m, path, wp, argBool(req, "over_write")))
		}
		return response{}, withStatus(statusIO, serial.Save(m, path, argBool(req, "over_write")))
	case "predict", "predict_class":
		if err := needTensors(method, req, 1); err != nil {
			return response{}, err
		}
		bs, err := batchSize(req, req.tensors[0])
		if err != nil {
			return response{}, err
		}
		if err := checkFeatures("the data to predict", req.tensors[0]); err != nil {
			return response{}, err
		}
		out := optim.Predict(m, req.tensors[0], bs)
		if method == "predict_class" {
			out = optim.Classes(out)
		}
		return response{tensors: []*tensor.Tensor{out}}, nil
	case "evaluate":
		if err := needTensors(method, req, 2); err != nil {
			return response{}, err
		}
		bs, err := batchSize(req, req.tensors[0])
		if err != nil {
			return response{}, err
		}
		if err := optim.CheckData("the evaluation set", req.tensors[0], req.tensors[1]); err != nil {
			return response{}, err
		}
		methods, err := valMethods(req.args["methods"])
		if err != nil {
			return response{}, err
		}
		return response{result: optim.Evaluate(m, req.tensors[0], req.tensors[1], bs, methods)}, nil
	}
	if c, ok := m.(nn.MethodCaller); ok {
		if res, out, handled, err := c.CallMethod(method, req.args, req.tensors); handled {
			return response{result: res, tensors: out}, err
		}
	}
	return response{}, fmt.Errorf("%s has no method %q", m.String(), method)
}

// batchSize reads batch_size; -1 (BigDL's "engine default") means all at once
// up to a bound that keeps memory modest.
func batchSize(req *request, x *tensor.Tensor) (int, error) {
	bs, err := argInt(req, "batch_size")
	if err != nil {
		return 0, err
	}
	if bs == -1 {
		return 128, nil
	}
	if bs <= 0 {
		return 0, fmt.Errorf("batch_size must be a positive integer, got %d", bs)
	}
	return bs, nil
}

func checkFeatures(what string, x *tensor.Tensor) error {
	if x.Records() <= 0 {
		return optim.CheckData(what, x, nil)
	}
	return optim.CheckData(what, x, tensor.New(x.Records()))
}

func setWeights(m nn.Module, ws []*tensor.Tensor) error {
	ps := nn.AllParams(m)
	if len(ps) == 0 {
		return fmt.Errorf("set_weights: %s has no weights", m.Meta().Name())
	}
	if len(ws) != len(ps) {
		return fmt.Errorf("set_weights: %s has %d parameter tensors, got %d", m.Meta().Name(), len(ps), len(ws))
	}
	for i, p := range ps {
		if !tensor.SameShape(p.Value.Shape, ws[i].Shape) {
			return fmt.Errorf("set_weights: tensor %d (%s) must have shape %s, got %s", i+1, p.Name,
				tensor.ShapeString(p.Value.Shape), tensor.ShapeString(ws[i].Shape))
		}
	}
	for i, p := range ps {
		copy(p.Value.Data, ws[i].Data) // in place: the flat parameter vector stays shared
	}
	return nil
}

func valMethods(spec any) ([]optim.ValMethod, error) {
	list, ok := spec.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("expected a non-empty list of validation methods")
	}
	out := make([]optim.ValMethod, len(list))
	for i, s := range list {
		m, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("validation method %d is not a validation method", i+1)
		}
		v, err := optim.NewValMethod(m)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func callCriterion(c criterion.Criterion, method string, req *request) (response, error) {
	if method == "add" {
		a, ok := c.(criterion.Adder)
		if !ok {
			return response{}, fmt.Errorf("%s has no method add", c.Class())
		}
		child, err := argHandle(req.args, "criterion")
		if err != nil {
			return response{}, err
		}
		cc, ok := child.(criterion.Criterion)
		if !ok {
			return response{}, fmt.Errorf("%s.add: expected a criterion, got a %T", c.Class(), child)
		}
		w, ok := req.args["weight"].(float64)
		if !ok {
			return response{}, fmt.Errorf("%s.add: weight must be a number", c.Class())
		}
		return response{}, a.Add(cc, w)
	}
	if err := needTensors(method, req, 2); err != nil {
		return response{}, err
	}
	criterion.Check(c, req.tensors[0], req.tensors[1])
	switch method {
	case "forward":
		return response{result: c.Forward(req.tensors[0], req.tensors[1])}, nil
	case "backward":
		return response{tensors: []*tensor.Tensor{c.Backward(req.tensors[0], req.tensors[1]).Clone()}}, nil
	}
	return response{}, fmt.Errorf("criteria have no method %q", method)
}

func callLibrary(method string, req *request) (response, error) {
	if resp, ok, err := callDistLibrary(method, req); ok {
		return resp, err
	}
	if resp, ok, err := callPersistLibrary(method, req); ok {
		return resp, err
	}
	switch method {
	case "info":
		// kernel_sets maps each set in this build to the CPU features it
		// lacks here (empty: the CPU runs it); kernels_refused says why
		// BIGDL_KERNELS was not followed (Python logs it as a warning).
		sets := map[string][]string{}
		for _, name := range kernels.All() {
			sets[name] = append([]string{}, kernels.Missing(name)...)
		}
		return response{result: map[string]any{"version": Version, "kernels": kernels.Active,
			"kernel_sets": sets, "kernels_refused": kernels.Refused, "cpu": kernels.CPUName(),
			"layers": nn.Classes(), "criteria": criterion.Classes(), "format_version": serial.Version}}, nil
	case "load":
		path, err := argString(req, "path")
		if err != nil {
			return response{}, err
		}
		wp, _ := req.args["weight_path"].(string) // "" or absent: the weights are in path
		m, err := serial.LoadSplit(path, wp)
		if err != nil {
			return response{}, withStatus(statusIO, err)
		}
		return response{result: newHandle(m)}, nil
	case "seed":
		s, err := argInt(req, "seed")
		if err != nil {
			return response{}, err
		}
		rng.Global.Seed(uint32(s))
		return response{}, nil
	case "uniform":
		a, _ := req.args["a"].(float64)
		b, _ := req.args["b"].(float64)
		var shape []int
		if list, ok := req.args["size"].([]any); ok {
			for _, d := range list {
				f, ok := d.(float64)
				if !ok || f < 0 || f != math.Trunc(f) {
					return response{}, fmt.Errorf("uniform: size must be a list of non-negative integers")
				}
				shape = append(shape, int(f))
			}
		}
		t := tensor.New(shape...)
		rng.Global.Do(func(g *rng.MT) {
			for i := range t.Data {
				t.Data[i] = float32(g.Uniform(a, b))
			}
		})
		return response{tensors: []*tensor.Tensor{t}}, nil
	case "bench_gemm":
		return benchGemm(req)
	case "panic_for_test":
		// Lets the Python tests prove a Go panic becomes an exception.
		var m map[string]int
		m["boom"]++
	}
	return response{}, fmt.Errorf("the library has no function %q", method)
}

// newPerModule builds {"model": handle, "methods": {submodule name: optim method handle}}.
func newPerModule(args map[string]any) (*methodObj, error) {
	h, err := argHandle(args, "model")
	if err != nil {
		return nil, fmt.Errorf("optim_method: model: %w", err)
	}
	model, ok := h.(nn.Module)
	if !ok {
		return nil, fmt.Errorf("optim_method: model must be a layer, got %T", h)
	}
	spec, _ := args["methods"].(map[string]any)
	if len(spec) == 0 {
		return nil, fmt.Errorf("optim_method: a dict of optim methods needs at least one submodule name")
	}
	methods := map[string]optim.Method{}
	parts := map[string]*methodObj{}
	for name := range spec {
		o, err := argHandle(spec, name)
		if err != nil {
			return nil, fmt.Errorf("optim_method[%q]: %w", name, err)
		}
		m, ok := o.(*methodObj)
		if !ok {
			return nil, fmt.Errorf("optim_method[%q] must be an optim method, got %T", name, o)
		}
		methods[name] = m.Method
		parts[name] = m
	}
	p, err := optim.NewPerModule(model, methods)
	if err != nil {
		return nil, err
	}
	return &methodObj{Method: p, runs: runPosition{parts: parts}}, nil
}

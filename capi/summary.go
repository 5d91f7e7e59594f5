package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/optim"
	"github.com/bigdl-go/bigdl-go/core/summary"
)

// The calls TensorBoard summaries need (python/bigdl/optim/optimizer.py and
// python/bigdl/_spark.py drive them):
//
//   bigdl_new("TrainSummary" | "ValidationSummary", {"log_dir", "app_name"}) creates
//       log_dir/app_name/train (or /validation) and a new event file in it;
//       "set_summary_trigger" {"name", "trigger"} (TrainSummary: "Loss", "Throughput",
//       "LearningRate" or "Parameters"); "triggers" -> {name: trigger spec};
//       "read_scalar" {"tag"} -> [[step, value, wall time], ...] from every event file
//       of the directory, by step; "add_scalars" {"rows": [[tag, step, value, wall
//       time], ...]}; "add_weights" {"model": handle, "step"}: a histogram of every
//       weight; "dir" -> the directory; freeing the handle closes the file.
//   Optimizer config: "train_summary" / "val_summary": a summary handle; or, in a
//       Spark task, "summary_triggers": {name: spec}: the optimizer collects the
//       scalars those triggers record, and "poll" / "wait" hand them over as
//       "scalars": [[tag, step, value, wall time], ...] for the driver to write.
//   Layers: "save_graph_topology" {"log_dir"} on a graph Model writes its GraphDef.

type summaryObj struct {
	kind string // "train" or "validation"
	dir  string
	w    *summary.Writer

	mu       sync.Mutex
	triggers map[string]any // TrainSummary: name -> trigger spec
}

// summaryTags are the series a TrainSummary records, as BigDL names them.
var summaryTags = []string{"Loss", "Throughput", "LearningRate", "Parameters"}

func newSummary(kind string, args map[string]any) (*summaryObj, error) {
	class := map[string]string{"train": "TrainSummary", "validation": "ValidationSummary"}[kind]
	logDir, _ := args["log_dir"].(string)
	app, _ := args["app_name"].(string)
	if logDir == "" || app == "" {
		return nil, fmt.Errorf("%s: log_dir and app_name must be non-empty strings, got %v and %v", class, args["log_dir"], args["app_name"])
	}
	dir := filepath.Join(logDir, app, kind)
	w, err := summary.NewWriter(dir)
	if err != nil {
		return nil, fmt.Errorf("%s(%q, %q): %w", class, logDir, app, err)
	}
	s := &summaryObj{kind: kind, dir: dir, w: w}
	if kind == "train" {
		// BigDL records the loss and the throughput every iteration unless told otherwise.
		every := map[string]any{"class": "SeveralIteration", "interval": 1.0}
		s.triggers = map[string]any{"Loss": every, "Throughput": every}
	}
	return s, nil
}

func (s *summaryObj) release() { s.w.Close() }

func (s *summaryObj) call(method string, req *request) (response, error) {
	switch method {
	case "set_summary_trigger":
		if s.kind != "train" {
			return response{}, fmt.Errorf("set_summary_trigger: only a TrainSummary has triggers")
		}
		name, _ := req.args["name"].(string)
		if !slices.Contains(summaryTags, name) {
			return response{}, fmt.Errorf("set_summary_trigger: name must be one of %v, got %q", summaryTags, name)
		}
		spec, _ := req.args["trigger"].(map[string]any)
		if _, err := optim.NewTrigger(spec); err != nil {
			return response{}, fmt.Errorf("set_summary_trigger(%q): %w", name, err)
		}
		s.mu.Lock()
		s.triggers[name] = spec
		s.mu.Unlock()
		return response{}, nil
	case "triggers":
		s.mu.Lock()
		defer s.mu.Unlock()
		out := map[string]any{}
		for k, v := range s.triggers {
			out[k] = v
		}
		return response{result: out}, nil
	case "dir":
		return response{result: s.dir}, nil
	case "read_scalar":
		tag, err := argString(req, "tag")
		if err != nil {
			return response{}, fmt.Errorf("read_scalar: %w", err)
		}
		if err := s.w.Flush(); err != nil {
			return response{}, withStatus(statusIO, err)
		}
		points, err := summary.ReadScalar(s.dir, tag)
		if err != nil {
			return response{}, withStatus(statusIO, err)
		}
		rows := make([][3]float64, len(points))
		for i, p := range points {
			rows[i] = [3]float64{float64(p.Step), float64(p.Value), p.WallTime}
		}
		return response{result: rows}, nil
	case "add_scalars":
		list, _ := req.args["rows"].([]any)
		for _, r := range list {
			row, _ := r.([]any)
			var tag string
			var step, value, wall float64
			ok := len(row) == 4
			if ok {
				tag, ok = row[0].(string)
				step, _ = row[1].(float64)
				value, _ = row[2].(float64)
				wall, _ = row[3].(float64)
			}
			if !ok {
				return response{}, fmt.Errorf("add_scalars: each row must be [tag, step, value, wall time], got %v", r)
			}
			if err := s.w.Scalar(tag, float32(value), int64(step), wall); err != nil {
				return response{}, withStatus(statusIO, err)
			}
		}
		return response{}, withStatus(statusIO, s.w.Flush())
	case "add_weights":
		h, err := argHandle(req.args, "model")
		if err != nil {
			return response{}, fmt.Errorf("add_weights: %w", err)
		}
		m, ok := h.(nn.Module)
		if !ok {
			return response{}, fmt.Errorf("add_weights: model must be a layer, got %T", h)
		}
		step, err := argInt(req, "step")
		if err != nil {
			return response{}, fmt.Errorf("add_weights: %w", err)
		}
		wall := summary.Now()
		var werr error
		nn.Walk(m, func(x nn.Module) {
			for _, p := range x.Params() {
				if werr == nil {
					werr = s.w.Histogram(x.Meta().Name()+"/"+p.Name, p.Value.Data, int64(step), wall)
				}
			}
		})
		if werr == nil {
			werr = s.w.Flush()
		}
		return response{}, withStatus(statusIO, werr)
	}
	return response{}, fmt.Errorf("%s has no method %q", map[string]string{"train": "TrainSummary", "validation": "ValidationSummary"}[s.kind], method)
}

// trainSummary builds the training loop's summary from trigger specs.
func trainSummary(w optim.SummaryWriter, specs map[string]any) (*optim.TrainSummary, error) {
	ts := &optim.TrainSummary{Writer: w}
	slots := map[string]*optim.Trigger{"Loss": &ts.Loss, "Throughput": &ts.Throughput,
		"LearningRate": &ts.LearningRate, "Parameters": &ts.Parameters}
	for name, spec := range specs {
		slot, ok := slots[name]
		m, isMap := spec.(map[string]any)
		if !ok || !isMap {
			return nil, fmt.Errorf("train summary: no trigger %q (%v)", name, spec)
		}
		t, err := optim.NewTrigger(m)
		if err != nil {
			return nil, fmt.Errorf("train summary: %s: %w", name, err)
		}
		*slot = t
	}
	return ts, nil
}

// summaryOf resolves an optimizer's "train_summary" / "val_summary" handle.
func summaryOf(args map[string]any, name, kind string) (*summaryObj, error) {
	if _, ok := args[name]; !ok {
		return nil, nil
	}
	h, err := argHandle(args, name)
	if err != nil {
		return nil, fmt.Errorf("Optimizer: %s: %w", name, err)
	}
	s, ok := h.(*summaryObj)
	if !ok || s.kind != kind {
		return nil, fmt.Errorf("Optimizer: %s must be a %s summary, got %T", name, kind, h)
	}
	return s, nil
}

// collected is one scalar a Spark task's loop recorded for the driver.
type collected struct {
	tag   string
	step  int64
	value float32
	wall  float64
}

// scalarCollector is a Spark task's summary writer: it keeps the scalars
// for "poll" to hand over; the driver writes them and the weights'
// histograms (each task holds only its shard of the gradient).
type scalarCollector struct {
	mu          sync.Mutex
	rows, spare []collected
}

func (c *scalarCollector) Scalar(tag string, v float32, step int64, wall float64) error {
	c.mu.Lock()
	c.rows = append(c.rows, collected{tag, step, v, wall})
	c.mu.Unlock()
	return nil
}

func (c *scalarCollector) Histogram(string, []float32, int64, float64) error { return nil }
func (c *scalarCollector) Flush() error                                      { return nil }

// take hands over the rows collected so far.
func (c *scalarCollector) take() [][]any {
	c.mu.Lock()
	rows := c.rows
	c.rows, c.spare = c.spare[:0], rows
	c.mu.Unlock()
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = []any{r.tag, r.step, r.value, r.wall}
	}
	return out
}

// graphTopology is a graph Model's nodes as TensorBoard draws them: each
// layer, its class, and the layers it reads.
func graphTopology(g *nn.Graph) []summary.Node {
	children := g.Children()
	prev, _ := g.Config()["prev"].([][]int)
	nodes := make([]summary.Node, len(children))
	for i, ch := range children {
		nodes[i] = summary.Node{Name: ch.Meta().Name(), Op: ch.Meta().Class()}
		if i < len(prev) {
			for _, p := range prev[i] {
				nodes[i].Inputs = append(nodes[i].Inputs, children[p].Meta().Name())
			}
		}
	}
	return nodes
}

// saveGraphTopology writes g's graph to a new event file in dir.
func saveGraphTopology(g *nn.Graph, dir string) error {
	w, err := summary.NewWriter(dir)
	if err != nil {
		return fmt.Errorf("save_graph_topology: %w", err)
	}
	if err := w.Graph(graphTopology(g), summary.Now()); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

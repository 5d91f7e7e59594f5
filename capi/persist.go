package main

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/optim"
	"github.com/bigdl-go/bigdl-go/core/serial"
)

// Saving optim methods and checkpoints (python/bigdl/optim/optimizer.py):
//
//   Optim methods: "save" {"path", "over_write"} writes the method, its state and
//       where its last run stood; "run" and "set_run" are where a Spark run starts and
//       ended.
//   Library: "load_optim_method" {"path"} -> {"handle", "class", "args"};
//       "latest_checkpoint" {"path"} -> {"neval", "model", "methods": {name: path}} or null.
//   Optimizer config "checkpoint": {"trigger", "path": the checkpoint path (the run
//       writes into a subdirectory named by its start time), "overwrite", "name": the
//       model's name, which names a single method's file}.

// runPosition is where the last run with a method stood. A method loaded
// from a file resumes its run exactly: the next optimize() continues from
// there, as BigDL's optimizers continue from a loaded method's "epoch" and
// "neval". After a run, the next one with the method goes on from its epoch
// and iteration counters and its clock, but starts a fresh pass over the
// data: BigDL's DistriOptimizer keeps "epoch" and "neval" in the method's
// state, so after set_end_when(MaxEpoch(10)) a second optimize() of a run
// that stopped after epoch 5 trains epochs 6 to 10, and its triggers and
// summaries count on.
type runPosition struct {
	mu    sync.Mutex
	pos   *optim.Position
	exact bool                  // pos was loaded from a file: resume it exactly, not just its counters
	parts map[string]*methodObj // a dict's methods, which keep the position too
}

// startFrom is where a run with this method starts (nil: afresh).
func (r *runPosition) startFrom() *optim.Position {
	names := make([]string, 0, len(r.parts))
	for name := range r.parts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if p := r.parts[name].runs.startFrom(); p != nil {
			return p
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pos == nil || r.exact {
		return r.pos
	}
	return &optim.Position{Records: r.pos.Records, CountersOnly: true,
		Resume: optim.Resume{State: r.pos.State, Elapsed: r.pos.Elapsed}}
}

// ended records where a run stopped; the next run continues its counters.
func (r *runPosition) ended(p *optim.Position) {
	if p == nil {
		return
	}
	for _, part := range r.parts {
		part.runs.ended(p)
	}
	r.mu.Lock()
	r.pos, r.exact = p, false
	r.mu.Unlock()
}

func (r *runPosition) last() *optim.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pos
}

func (o *methodObj) file(run *optim.Position) serial.MethodFile {
	return serial.MethodFile{Class: o.Class(), Args: o.args, Method: o.Method, Run: run}
}

func (o *methodObj) call(method string, req *request) (response, error) {
	switch method {
	case "run": // where a distributed run with this method starts (null: afresh)
		return response{result: o.runs.startFrom()}, nil
	case "set_run": // where a distributed run with it ended
		var p optim.Position
		pm, _ := req.args["position"].(map[string]any)
		if err := fromJSON(pm, &p); err != nil {
			return response{}, fmt.Errorf("set_run: %w", err)
		}
		o.runs.ended(&p)
		return response{}, nil
	case "save":
	default:
		return response{}, fmt.Errorf("optim methods have no method %q", method)
	}
	path, err := argString(req, "path")
	if err != nil {
		return response{}, err
	}
	if o.runs.parts != nil {
		return response{}, errors.New("OptimMethod.save: save each method of a dict on its own")
	}
	return response{}, withStatus(statusIO, serial.SaveMethod(o.file(o.runs.last()), path, argBool(req, "over_write")))
}

func callPersistLibrary(method string, req *request) (resp response, ok bool, err error) {
	switch method {
	case "load_optim_method":
		path, err := argString(req, "path")
		if err != nil {
			return response{}, true, err
		}
		f, err := serial.LoadMethod(path)
		if err != nil {
			return response{}, true, withStatus(statusIO, err)
		}
		m := &methodObj{Method: f.Method, args: f.Args}
		m.runs.pos, m.runs.exact = f.Run, true
		return response{result: map[string]any{"handle": newHandle(m), "class": f.Class, "args": f.Args}}, true, nil
	case "checkpoint_dir": // the run directory a distributed run's driver writes into
		root, err := argString(req, "path")
		if err != nil {
			return response{}, true, err
		}
		dir, err := serial.RunDir(root, time.Now())
		return response{result: dir}, true, withStatus(statusIO, err)
	case "write_checkpoint": // {"dir", "model", "methods": {name: handle}, "run", "overwrite"}
		return response{}, true, writeCheckpoint(req.args)
	case "latest_checkpoint":
		path, err := argString(req, "path")
		if err != nil {
			return response{}, true, err
		}
		c, err := serial.LatestCheckpoint(path)
		if err != nil {
			return response{}, true, withStatus(statusIO, err)
		}
		if c == nil {
			return response{result: nil}, true, nil
		}
		return response{result: c}, true, nil
	}
	return response{}, false, nil
}

// setCheckpoint reads the optimizer's "checkpoint" config.
func (o *optimizer) setCheckpoint(c map[string]any) error {
	tspec, _ := c["trigger"].(map[string]any)
	trig, err := optim.NewTrigger(tspec)
	if err != nil {
		return fmt.Errorf("set_checkpoint: checkpoint_trigger: %w", err)
	}
	root, _ := c["path"].(string)
	if root == "" {
		return errors.New("set_checkpoint: checkpoint_path must be a directory path")
	}
	name, _ := c["name"].(string)
	overwrite, _ := c["overwrite"].(bool)
	o.checkpoint = &checkpointSpec{trigger: trig, root: root, name: name, overwrite: overwrite}
	return nil
}

type checkpointSpec struct {
	trigger   optim.Trigger
	root      string
	name      string
	overwrite bool
}

// checkpointer is the trainer's Checkpoint for a run starting now: it
// writes into a new run directory under the checkpoint path.
func (o *optimizer) checkpointer(now time.Time) (*optim.Checkpoint, error) {
	c := o.checkpoint
	if c == nil {
		return nil, nil
	}
	dir, err := serial.RunDir(c.root, now)
	if err != nil {
		return nil, withStatus(statusIO, err)
	}
	model, method := o.trainer.Model, o.method
	save := func(p *optim.Position) error {
		files := map[string]serial.MethodFile{}
		if method.runs.parts != nil {
			for name, part := range method.runs.parts {
				files[name] = part.file(p)
			}
		} else {
			files[c.name] = method.file(p)
		}
		o.addLine(fmt.Sprintf("[Wall Clock %.3fs] Save model to %s", p.Elapsed, dir))
		return withStatus(statusIO, serial.WriteCheckpoint(dir, p.State.Iteration+1, model, files, c.overwrite))
	}
	return &optim.Checkpoint{Trigger: c.trigger, Save: save}, nil
}

func writeCheckpoint(args map[string]any) error {
	dir, _ := args["dir"].(string)
	h, err := argHandle(args, "model")
	if err != nil {
		return fmt.Errorf("write_checkpoint: model: %w", err)
	}
	model, ok := h.(nn.Module)
	if !ok {
		return fmt.Errorf("write_checkpoint: model must be a layer, got %T", h)
	}
	var run optim.Position
	rm, _ := args["run"].(map[string]any)
	if err := fromJSON(rm, &run); err != nil {
		return fmt.Errorf("write_checkpoint: run: %w", err)
	}
	spec, _ := args["methods"].(map[string]any)
	files := map[string]serial.MethodFile{}
	for name := range spec {
		h, err := argHandle(spec, name)
		if err != nil {
			return fmt.Errorf("write_checkpoint: methods[%q]: %w", name, err)
		}
		m, ok := h.(*methodObj)
		if !ok {
			return fmt.Errorf("write_checkpoint: methods[%q] must be an optim method, got %T", name, h)
		}
		files[name] = m.file(&run)
	}
	overwrite, _ := args["overwrite"].(bool)
	return withStatus(statusIO, serial.WriteCheckpoint(dir, run.State.Iteration+1, model, files, overwrite))
}

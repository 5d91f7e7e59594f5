package main

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/optim"
)

// optimizer runs one model's training in a goroutine that Python polls:
// "start" returns at once, "poll" hands over progress lines and the outcome,
// "cancel" stops the loop between iterations.
type optimizer struct {
	trainer    *optim.Trainer
	valSpec    map[string]any
	method     *methodObj
	checkpoint *checkpointSpec
	// summaries are the TrainSummary and ValidationSummary objects the run
	// writes to (kept so their files stay open while it runs); collector
	// holds a Spark task's scalars for the driver.
	summaries []*summaryObj
	collector *scalarCollector

	mu      sync.Mutex
	lines   []string
	running bool
	runErr  error
	done    chan struct{}
}

func newOptimizer(args map[string]any) (*optimizer, error) {
	model, err := argHandle(args, "model")
	if err != nil {
		return nil, fmt.Errorf("Optimizer: model: %w", err)
	}
	m, ok := model.(nn.Module)
	if !ok {
		return nil, fmt.Errorf("Optimizer: model must be a layer, got %T", model)
	}
	crit, err := argHandle(args, "criterion")
	if err != nil {
		return nil, fmt.Errorf("Optimizer: criterion: %w", err)
	}
	c, ok := crit.(criterion.Criterion)
	if !ok {
		return nil, fmt.Errorf("Optimizer: criterion must be a criterion, got %T", crit)
	}
	meth, err := argHandle(args, "optim_method")
	if err != nil {
		return nil, fmt.Errorf("Optimizer: optim_method: %w", err)
	}
	method, ok := meth.(*methodObj)
	if !ok {
		return nil, fmt.Errorf("Optimizer: optim_method must be an optim method, got %T", meth)
	}
	endSpec, _ := args["end_trigger"].(map[string]any)
	end, err := optim.NewTrigger(endSpec)
	if err != nil {
		return nil, fmt.Errorf("Optimizer: end_trigger: %w", err)
	}
	bs, _ := args["batch_size"].(float64)
	if bs < 1 || bs != float64(int(bs)) {
		return nil, fmt.Errorf("Optimizer: batch_size must be a positive integer, got %v", args["batch_size"])
	}
	cores, _ := args["cores"].(float64) // 0 or absent: all cores
	if cores < 0 || cores != float64(int(cores)) {
		return nil, fmt.Errorf("Optimizer: cores must be a positive integer, got %v", args["cores"])
	}
	o := &optimizer{trainer: &optim.Trainer{Model: m, Criterion: c, Method: method.Method, End: end,
		BatchSize: int(bs), Workers: int(cores), LogInterval: 500 * time.Millisecond}}
	o.trainer.Log = o.addLine
	o.method = method
	if c, ok := args["checkpoint"].(map[string]any); ok {
		if err := o.setCheckpoint(c); err != nil {
			return nil, err
		}
	}
	if c, ok := args["clip"].(map[string]any); ok {
		if o.trainer.Clip, err = clipping(c); err != nil {
			return nil, err
		}
	}
	if d, ok := args["dist"].(map[string]any); ok {
		if o.trainer.Dist, err = newDistributed(d); err != nil {
			return nil, err
		}
	}
	if v, ok := args["validation"].(map[string]any); ok {
		if err := o.setValidation(v); err != nil {
			return nil, err
		}
	}
	if err := o.setSummaries(args); err != nil {
		return nil, err
	}
	return o, nil
}

// setSummaries attaches the train and validation summaries, or a Spark
// task's collector of the train summary's scalars.
func (o *optimizer) setSummaries(args map[string]any) error {
	train, err := summaryOf(args, "train_summary", "train")
	if err != nil {
		return err
	}
	if train != nil {
		resp, _ := train.call("triggers", &request{})
		if o.trainer.Summary, err = trainSummary(train.w, resp.result.(map[string]any)); err != nil {
			return err
		}
		o.summaries = append(o.summaries, train)
	} else if specs, ok := args["summary_triggers"].(map[string]any); ok {
		o.collector = &scalarCollector{}
		if o.trainer.Summary, err = trainSummary(o.collector, specs); err != nil {
			return err
		}
	}
	val, err := summaryOf(args, "val_summary", "validation")
	if err != nil || val == nil {
		return err
	}
	if o.trainer.Validation == nil {
		return nil // as in BigDL: without validation there is nothing to record
	}
	o.trainer.Validation.Summary = val.w
	o.summaries = append(o.summaries, val)
	return nil
}

func (o *optimizer) setValidation(v map[string]any) error {
	tspec, _ := v["trigger"].(map[string]any)
	trig, err := optim.NewTrigger(tspec)
	if err != nil {
		return fmt.Errorf("set_validation: trigger: %w", err)
	}
	bs, _ := v["batch_size"].(float64)
	if bs < 1 || bs != float64(int(bs)) {
		return fmt.Errorf("set_validation: batch_size must be a positive integer, got %v", v["batch_size"])
	}
	if _, err := valMethods(v["methods"]); err != nil {
		return fmt.Errorf("set_validation: val_method: %w", err)
	}
	methods := v["methods"]
	o.trainer.Validation = &optim.Validation{Trigger: trig, BatchSize: int(bs),
		Methods: func() ([]optim.ValMethod, error) { return valMethods(methods) }}
	return nil
}

func (o *optimizer) addLine(s string) {
	o.mu.Lock()
	o.lines = append(o.lines, s)
	o.mu.Unlock()
}

func (o *optimizer) call(method string, req *request) (response, error) {
	switch method {
	case "set_data":
		if err := needTensors(method, req, 2); err != nil {
			return response{}, err
		}
		which, _ := req.args["which"].(string)
		x, y := req.tensors[0], req.tensors[1]
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.running {
			return response{}, errors.New("set_data: training is running")
		}
		switch which {
		case "train":
			if err := optim.CheckData("the training set", x, y); err != nil {
				return response{}, err
			}
			o.trainer.X, o.trainer.Y = x, y
		case "validation":
			if o.trainer.Validation == nil {
				return response{}, errors.New("set_data: no validation configured")
			}
			if err := optim.CheckData("the validation set", x, y); err != nil {
				return response{}, err
			}
			o.trainer.Validation.X, o.trainer.Validation.Y = x, y
		default:
			return response{}, fmt.Errorf("set_data: which must be \"train\" or \"validation\", got %q", which)
		}
		return response{}, nil
	case "start":
		return response{}, o.start()
	case "poll":
		return response{result: o.poll()}, nil
	case "cancel":
		o.trainer.Cancel()
		return response{}, nil
	case "wait":
		// Blocks until the run ends (at most the given seconds), so a caller
		// can wait without busy polling.
		secs, _ := req.args["seconds"].(float64)
		o.mu.Lock()
		done := o.done
		o.mu.Unlock()
		if done != nil {
			select {
			case <-done:
			case <-time.After(time.Duration(secs * float64(time.Second))):
			}
		}
		return response{result: o.poll()}, nil
	}
	return response{}, fmt.Errorf("Optimizer has no method %q", method)
}

func (o *optimizer) start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running {
		return errors.New("optimize: training is already running")
	}
	if o.trainer.X == nil {
		return errors.New("optimize: no training data was set")
	}
	if v := o.trainer.Validation; v != nil && v.X == nil {
		return errors.New("optimize: validation is configured but no validation data was set")
	}
	if o.trainer.Dist == nil {
		o.trainer.Start = o.method.runs.startFrom()
		c, err := o.checkpointer(time.Now())
		if err != nil {
			return err
		}
		o.trainer.Checkpoint = c
	}
	o.running, o.runErr, o.done = true, nil, make(chan struct{})
	done := o.done
	go func() {
		var err error
		defer func() {
			if r := recover(); r != nil {
				err = panicError(r)
			}
			o.mu.Lock()
			o.running, o.runErr = false, err
			o.mu.Unlock()
			close(done)
		}()
		err = o.trainer.Run()
		if o.trainer.Dist == nil {
			o.method.runs.ended(o.trainer.LastPosition())
		}
	}()
	return nil
}

func (o *optimizer) poll() map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	lines := o.lines
	o.lines = nil
	if lines == nil {
		lines = []string{}
	}
	p := o.trainer.Progress() // State is the run goroutine's
	out := map[string]any{"lines": lines, "running": o.running, "epoch": p.Epoch, "iteration": p.Iteration,
		"epoch_records": p.EpochRecords, "loss": p.Loss}
	if o.collector != nil {
		out["scalars"] = o.collector.take()
	}
	if o.runErr != nil {
		status := statusOf(o.runErr)
		if errors.Is(o.runErr, optim.ErrCancelled) {
			status = statusCancelled
		}
		out["error"], out["status"] = o.runErr.Error(), status
	}
	return out
}

// release stops a run whose Python object went away, and returns once the
// run's goroutine has ended: the model is Python's again, and nothing of
// the run may go on writing it.
func (o *optimizer) release() {
	o.trainer.Cancel()
	o.mu.Lock()
	done := o.done
	o.mu.Unlock()
	if done != nil {
		<-done
	}
}

// clipping reads {"const": [min, max] or null, "l2norm": clip_norm or null}.
func clipping(c map[string]any) (optim.Clipping, error) {
	var out optim.Clipping
	if b, ok := c["const"].([]any); ok {
		if len(b) != 2 {
			return out, fmt.Errorf("set_gradclip_const: needs min_value and max_value, got %v", b)
		}
		lo, ok1 := b[0].(float64)
		hi, ok2 := b[1].(float64)
		if !ok1 || !ok2 {
			return out, fmt.Errorf("set_gradclip_const: min_value and max_value must be numbers, got %v", b)
		}
		out.Const, out.Min, out.Max = true, float32(lo), float32(hi)
	}
	if v, ok := c["l2norm"].(float64); ok {
		if v <= 0 {
			return out, fmt.Errorf("set_gradclip_l2norm: clip_norm must be positive, got %v", v)
		}
		out.L2Norm = v
	}
	return out, out.Check()
}

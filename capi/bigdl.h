/*
 * bigdl.h: the C ABI of libbigdl, the Go core of bigdl-go.
 *
 * Five functions over opaque handles, in the spirit of sqlite3.h:
 *
 *   bigdl_new           create an object by BigDL class name with JSON arguments
 *   bigdl_call          call a named method on an object (or on the library, handle 0)
 *   bigdl_tensors_read  copy one tensor (index -1: all, back to back) out of a tensor list
 *                       returned by bigdl_call
 *   bigdl_free          release a handle
 *   bigdl_free_string   release a string returned through json_out or err
 *
 * Every function that can fail returns a status (BIGDL_OK or one of the error
 * codes below) and, on failure, stores a message in *err that the caller must
 * release with bigdl_free_string. No Go panic crosses this boundary: each
 * function recovers and reports it as BIGDL_ERR_INTERNAL.
 *
 * Objects. bigdl_new(class, args) creates
 *   - a layer ("Linear", "Sequential", ...), from the layer registry; a graph "Model" from
 *     {"layers": [handle per node], "prev": [[predecessor node indices]], "inputs", "outputs"};
 *   - a criterion ("ClassNLLCriterion", ...);
 *   - an optim method ("SGD", "Adam", ...), which keeps its state across runs;
 *   - an "Optimizer": args {"model": handle, "criterion": handle, "optim_method": handle,
 *     "batch_size": n, "end_trigger": trigger, "validation": {"trigger", "batch_size", "methods"}}.
 *     For a task of a distributed run, "dist": {"comm": handle, "total", "seed", "stop",
 *     "resume"} (see capi/dist.go); "dist_state" then reports where the segment ended.
 *   - a "Comm" ({"host": h}): one task's end of the peer-to-peer TCP mesh; "address",
 *     then "connect" {"rank", "peers": [addresses], "timeout": seconds}; bigdl_free closes it.
 *   - a "TrainSummary" or "ValidationSummary" ({"log_dir", "app_name"}): a TensorBoard event
 *     file in log_dir/app_name/train (or /validation), given to an Optimizer as "train_summary"
 *     or "val_summary" (see capi/summary.go); bigdl_free closes the file.
 *   Triggers and validation methods are JSON specs, e.g. {"class": "MaxEpoch", "max_epoch": 20}
 *   and {"class": "Loss", "criterion": {"class": "ClassNLLCriterion", "args": {}}}.
 *
 * Tensors in. bigdl_call takes n_in C-contiguous float32 arrays: data[i] points at
 *   the values, ndims[i] is the rank, and shapes holds all dimensions back to back.
 *   The library copies what it keeps; the caller's buffers are not retained.
 * Tables. A table (BigDL's Table: nested lists of tensors) crosses in the same call: its
 *   tensors are passed flat, depth first, and json_args holds "tables", one nesting per
 *   logical input, where a number is the index of a tensor in data and a list is a table,
 *   e.g. {"tables": [[0, [1, 2]], 3]} for an input table {t0, {t1, t2}} and a tensor t3.
 *   Without "tables" every tensor is one input.
 * Results out. *json_out (if not NULL) receives a JSON object: {"result": ..., "shapes": [...]};
 *   when "shapes" is present, *tensors_out is a handle to that many tensors, to read with
 *   bigdl_tensors_read and release with bigdl_free. When an output is a table, the tensors
 *   are its leaves, depth first, and "tables" gives each output's nesting as above.
 *
 * Methods (see the Go files in capi/ for the full list): layers answer forward, backward, get_weights,
 * set_weights, parameters, zero_grad_parameters, update_parameters, reset, training,
 * is_training, name, set_name, describe, string, add, children, freeze, unfreeze, save,
 * predict, evaluate, get_flat_weights, set_flat_weights, get_extra_parameters (running statistics),
 * get_flat_extra, set_flat_extra, layer-specific methods (e.g. BatchNormalization's
 * set_running_mean and set_running_std), and graph Models stop_gradient, graph and
 * save_graph_topology; summaries answer set_summary_trigger, triggers, read_scalar, add_scalars and
 * add_weights;
 * criteria answer forward and backward (ParallelCriterion and MultiCriterion also add);
 * optim methods answer config, get_state and set_state; an Optimizer answers set_data, start,
 * poll, wait, cancel and dist_state; the library (handle 0) answers info, load, seed, uniform,
 * draw_seed and trigger_fires.
 *
 * Threads. Calls may come from any thread. Long calls run without holding the caller's
 * locks (ctypes releases Python's GIL). Training runs in a goroutine: "start" returns at
 * once and "poll" reports progress, so the caller can show it and cancel.
 */
#ifndef BIGDL_H
#define BIGDL_H

#include <stdint.h>

typedef uint64_t bigdl_handle;

enum {
	BIGDL_OK = 0,
	BIGDL_ERR_VALUE = 1,     /* bad argument or data: Python raises ValueError */
	BIGDL_ERR_INTERNAL = 2,  /* a bug in bigdl-go (a recovered Go panic): RuntimeError */
	BIGDL_ERR_IO = 3,        /* a file could not be read or written: OSError */
	BIGDL_ERR_HANDLE = 4,    /* the handle was freed or never existed */
	BIGDL_ERR_CANCELLED = 5, /* training was cancelled */
	BIGDL_ERR_MEMORY = 6     /* a buffer larger than the memory available: MemoryError */
};

int bigdl_new(char *class_name, char *json_args, bigdl_handle *out, char **err);
int bigdl_call(bigdl_handle h, char *method, char *json_args,
               int n_in, float **data, int *ndims, int64_t *shapes,
               char **json_out, bigdl_handle *tensors_out, char **err);
int bigdl_tensors_read(bigdl_handle list, int index, float *dst, int64_t count, char **err);
void bigdl_free(bigdl_handle h);
void bigdl_free_string(char *s);

#endif

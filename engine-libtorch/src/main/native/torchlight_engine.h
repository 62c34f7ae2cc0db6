/*
 * torchlight's engine: a thin C ABI over libtorch, called from Java through FFM.
 *
 * Rules of the ABI: opaque handles, plain C types, a status code from every call that can fail and
 * this thread's message for it (tl_last_error). No C++ type and no exception crosses it. The caller
 * validates every request (shapes, datatypes, byte counts) before calling: the library trusts a
 * tl_tensor's shape and nbytes to describe its data.
 */
#ifndef TORCHLIGHT_ENGINE_H
#define TORCHLIGHT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define TL_OK 0
/* Failed; tl_last_error() says why. */
#define TL_ERROR 1
/* Failed for lack of (host or device) memory: a smaller batch may succeed. */
#define TL_OUT_OF_MEMORY 2
/* The caller broke the contract: a null handle or pointer, an unknown code, a count out of range. */
#define TL_INVALID_ARGUMENT 3
/*
 * A CUDA error that poisons the device's context (a device-side assert, an illegal address, an
 * unspecified launch failure, a misaligned address, an illegal instruction): every later CUDA call in
 * the process fails too. Free the model; nothing on that device works until the process restarts.
 */
#define TL_DEVICE_FAULT 4

/* Element types, the ABI's own numbering (torchlight's DataType order). */
#define TL_BOOL 0
#define TL_UINT8 1
#define TL_INT8 2
#define TL_INT16 3
#define TL_INT32 4
#define TL_INT64 5
#define TL_FP16 6
#define TL_BF16 7
#define TL_FP32 8
#define TL_FP64 9

/* Model formats. */
#define TL_TORCHSCRIPT 0 /* torch.jit.save */
#define TL_AOTI 1        /* torch._inductor.aoti_compile_and_package (.pt2) */

/* Devices. */
#define TL_CPU 0
#define TL_CUDA 1
/*
 * Wherever the model's parts were saved (TorchScript only): loaded without moving anything, for a
 * model that places its own parts, e.g. across GPUs. Inputs are handed to forward as CPU tensors; the
 * model moves them. Outputs are copied to the CPU from wherever they are.
 */
#define TL_AS_SAVED 2

/* What tl_build_features reports, as bits. */
#define TL_FEATURE_AOTI 1
#define TL_FEATURE_CUDA 2

typedef struct tl_model tl_model;
typedef struct tl_outputs tl_outputs;

/* A tensor whose memory the caller owns: read in place on the CPU, never freed by the library. */
typedef struct tl_tensor {
    int32_t dtype;        /* TL_BOOL .. TL_FP64 */
    int32_t ndim;         /* 0 .. 16 */
    const int64_t* shape; /* ndim sizes, each >= 0 */
    const void* data;     /* nbytes bytes, aligned to the element size; may be NULL when nbytes is 0 */
    int64_t nbytes;       /* the product of the shape times the element size */
} tl_tensor;

/* How to load a model. */
typedef struct tl_load_options {
    int32_t format;       /* TL_TORCHSCRIPT or TL_AOTI */
    int32_t device_type;  /* TL_CPU, TL_CUDA or TL_AS_SAVED (TorchScript only) */
    int32_t device_index; /* the CUDA ordinal; -1 otherwise */
    int32_t precision;    /* TL_FP32: as saved; TL_FP16 or TL_BF16: the module's floating-point
                             parameters and buffers are converted once (TorchScript only) */
    int32_t optimize;     /* 1: torch.jit.freeze and optimize_for_inference (TorchScript only) */
    /* TL_CUDA only (cudnn_benchmark also TL_AS_SAVED where GPUs are visible), 0 or 1 each; ignored
       on other devices. */
    int32_t cudnn_benchmark; /* 1: cuDNN times its algorithms per new input shape. Process-wide in
                                libtorch: once one model turns it on, it stays on for all. */
    int32_t cuda_graphs;     /* 1: one CUDA graph per input shape (TorchScript only), see tl_model_run */
    int32_t pinned_buffers;  /* 1: inputs and outputs staged in page-locked host memory, copied
                                asynchronously on the instance's stream */
} tl_load_options;

/* This thread's message for its last failed call; "" when there is none. Valid until the next call. */
const char* tl_last_error(void);

/* The libtorch version the library was built against and runs with, e.g. "2.13.0". */
const char* tl_libtorch_version(void);

/* TL_FEATURE_* bits this build supports. */
int32_t tl_build_features(void);

/* CUDA devices visible to libtorch; 0 without CUDA. */
int32_t tl_cuda_device_count(void);

/*
 * CUDA device's free and total memory as the driver reports it (cudaMemGetInfo). Asks through the
 * process's context on that device, creating it if libtorch has none there yet. TL_ERROR on a build
 * without CUDA; TL_INVALID_ARGUMENT for a device that is not visible.
 */
int32_t tl_cuda_memory_info(int32_t device, int64_t* free_bytes, int64_t* total_bytes);

/*
 * What libtorch's CUDA caching allocator holds on a device, over all its pools: bytes in tensors now,
 * bytes reserved from the driver (in tensors plus cached for reuse), and the most bytes ever in
 * tensors at once. All zero while libtorch has not used CUDA. TL_ERROR on a build without CUDA;
 * TL_INVALID_ARGUMENT for a device that is not visible.
 */
int32_t tl_cuda_allocator_stats(int32_t device, int64_t* allocated_bytes, int64_t* reserved_bytes,
                                int64_t* peak_allocated_bytes);

/* Returns the caching allocator's unused device memory to the driver. Does nothing without CUDA. */
int32_t tl_cuda_empty_cache(void);

/* Threads libtorch uses inside one operator, for the calling thread. */
/*
 * Page-locked (pinned) host memory of nbytes > 0 for the inputs of models on CUDA devices: a run
 * copies an input that lies in such memory to the device from where it is, asynchronously, where
 * other inputs are first staged in pinned memory (pinned_buffers) or copied synchronously. The memory
 * must not change while a run that reads it is under way (until it returns, whatever its status).
 * Free it with tl_pinned_free. TL_ERROR without CUDA (this build, or no device visible),
 * TL_OUT_OF_MEMORY when the host cannot lock that much.
 */
int32_t tl_pinned_alloc(int64_t nbytes, void** data);

/* Frees memory from tl_pinned_alloc; NULL is ignored. Waits for the work queued on the devices. */
void tl_pinned_free(void* data);

int32_t tl_set_intra_op_threads(int32_t threads);
int32_t tl_get_intra_op_threads(void);

/* Loads a model file. On success *model is a handle to free with tl_model_free. */
int32_t tl_model_load(const char* path, const tl_load_options* options, tl_model** model);

/*
 * A second handle on a loaded model that shares its module, weights included, instead of loading it
 * again: both handles may run at the same time on different threads. Only for a TorchScript model on
 * the CPU whose forward changes no state of the module (sets no attribute, writes into no tensor
 * attribute, reads no mutable container attribute; judged by libtorch's alias analysis), so that
 * concurrent runs cannot interfere. Each handle is freed with tl_model_free; the module goes with the
 * last. TL_INVALID_ARGUMENT, saying why, for a model that cannot be shared.
 */
int32_t tl_model_share(const tl_model* model, tl_model** shared);

/*
 * Frees a model. On CUDA: its module and CUDA graphs go, its stream is synchronized and the caching
 * allocator's unused memory returned to the driver, so that unloading gives the memory back.
 */
void tl_model_free(tl_model* model);

/*
 * The number of the CUDA stream the model queues its work on, among its device's (0, 1, ...); -1 when
 * not on CUDA. Streams are reused: a model loaded after another was freed may take its stream, and its
 * cuBLAS workspace with it (libtorch keeps one per stream for the process's life).
 */
int32_t tl_model_stream(const tl_model* model, int64_t* id);

/*
 * The model's latest notice for the operator, "" when there is none, e.g. "CUDA graph capture failed
 * for input shapes [8, 64], running eagerly from now on: ...". Set by a load or a run; a new notice
 * replaces the old one. Valid until the next call on the model.
 */
const char* tl_model_notice(const tl_model* model);

/*
 * Runs the model's forward on the inputs, in order. Floating-point inputs are cast to the module's
 * precision. Output i of a floating-point type is cast to float_outputs[i] when that is a floating
 * type other than its own (float_outputs may be NULL: outputs as returned). A tensor, a tuple or list
 * of tensors, or a dict of string to tensor is accepted as the forward's result. On success *outputs
 * is a handle to free with tl_outputs_free; its tensors are contiguous CPU memory until then.
 *
 * On CUDA everything runs on the model's own stream: the copies of the inputs to the device, forward,
 * the copies of the outputs back, then one synchronization. With cuda_graphs, the first call with a
 * new set of input shapes runs forward eagerly (three times: TorchScript profiles and optimizes over
 * its first runs, cuDNN and cuBLAS settle) and then captures a CUDA graph that this and later calls
 * with those shapes replay; when a capture fails, the model runs eagerly from then on and says why
 * in tl_model_notice. TL_OUT_OF_MEMORY empties the caching allocator's cache before returning.
 */
int32_t tl_model_run(tl_model* model, const tl_tensor* inputs, int32_t n_inputs, const int32_t* float_outputs,
                     int32_t n_float_outputs, tl_outputs** outputs);

/* How many tensors the run returned. */
int32_t tl_outputs_count(const tl_outputs* outputs);

/*
 * Output i: its key when the forward returned a dict (else NULL), datatype, shape, and contiguous
 * data, all valid until tl_outputs_free.
 */
int32_t tl_output(const tl_outputs* outputs, int32_t i, const char** name, int32_t* dtype, int32_t* ndim,
                  const int64_t** shape, const void** data, int64_t* nbytes);

void tl_outputs_free(tl_outputs* outputs);

#ifdef __cplusplus
}
#endif

#endif

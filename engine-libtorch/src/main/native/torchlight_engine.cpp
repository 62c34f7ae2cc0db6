// torchlight's engine: the C ABI of torchlight_engine.h over libtorch.
//
// Every extern "C" function catches everything: no exception crosses the ABI. A failing call
// returns a status and leaves its message in this thread's tl_last_error. Messages are short:
// libtorch's C++ backtraces are cut off, and a TorchScript interpreter failure is reduced to its
// error line and the innermost TorchScript frame.
//
// The tl_ functions are the library's only exported symbols (everything else is compiled with
// hidden visibility, and the link's version script exports tl_* alone).
//
// The CUDA path (a stream per model, pinned staging, CUDA graphs, the allocator's figures) is
// compiled only under TL_WITH_CUDA, which CMakeLists.txt defines against a CUDA libtorch;
// check_cuda_compile.sh compiles it on a machine without one.
#pragma GCC visibility push(default)
#include "torchlight_engine.h"
#pragma GCC visibility pop

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#if __has_include(<torch/csrc/inductor/aoti_package/model_package_loader.h>)
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#define TL_WITH_AOTI 1
#endif

// TL_WITH_CUDA is defined by CMakeLists.txt when the libtorch is a CUDA build.
#ifdef TL_WITH_CUDA
#include <ATen/core/CachingHostAllocator.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

// c10::AcceleratorError (a CUDA error with its cudaError_t code) exists from libtorch 2.8 on.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
#define TL_WITH_ACCELERATOR_ERROR 1
#endif

#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

// Calls that do CUDA work share this gate, and a CUDA graph capture holds it alone. A capture in
// thread-local mode is meant to let other threads go on, but on an H200 it did not: models loading
// and warming up beside a capture failed with "operation not permitted when stream is capturing", and
// the capture with a cuDNN error. A capture is short and happens once per input shape, so waiting for
// it costs the others little. libtorch's CUDA state is the process's, and so is this gate.
class CaptureGate {
public:
    std::shared_lock<std::shared_mutex> share() {
        std::lock_guard<std::mutex> turn(turnstile_);
        return std::shared_lock<std::shared_mutex>(gate_);
    }
    // Through the turnstile too, so that a capture waiting for running calls is not starved by new ones.
    std::unique_lock<std::shared_mutex> alone() {
        std::lock_guard<std::mutex> turn(turnstile_);
        return std::unique_lock<std::shared_mutex>(gate_);
    }

private:
    std::mutex turnstile_;
    std::shared_mutex gate_;
};

CaptureGate& capture_gate() {
    static CaptureGate gate;
    return gate;
}

// A caller's share of the gate; empty for work on the CPU.
using GateTurn = std::shared_lock<std::shared_mutex>;

#ifdef TL_WITH_CUDA
// A share of the gate for calls that must go on without one (freeing): empty if locking fails,
// which the C ABI cannot report from there and which no caller could act on.
GateTurn share_or_none() noexcept {
    try {
        return capture_gate().share();
    } catch (...) {
        return GateTurn();
    }
}
#endif

#ifdef TL_WITH_CUDA
// One captured CUDA graph: the device tensors it reads and the ones it writes on each replay.
struct CapturedGraph {
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    std::vector<at::Tensor> static_inputs;
    std::vector<std::pair<std::optional<std::string>, at::Tensor>> static_outputs;
};

// The streams models run on, per device, each reused by the models loaded after its last one was
// freed. libtorch keeps a cuBLAS workspace per (handle, stream) for the process's life (32 MiB on a
// Hopper GPU), so a fresh stream per load, as libtorch's round-robin pool hands out, left one more
// workspace behind on every reload. A model takes the lowest free slot and gives it back when freed;
// the streams themselves are never destroyed.
class StreamSlots {
public:
    std::pair<size_t, c10::cuda::CUDAStream> take(c10::DeviceIndex device) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<Slot>& slots = devices_[device];
        for (size_t i = 0; i < slots.size(); ++i) {
            if (!slots[i].busy) {
                slots[i].busy = true;
                return {i, slots[i].stream};
            }
        }
        c10::cuda::CUDAGuard on_device(device);
        cudaStream_t raw = nullptr;
        C10_CUDA_CHECK(cudaStreamCreateWithFlags(&raw, cudaStreamNonBlocking));
        slots.push_back(Slot{c10::cuda::getStreamFromExternal(raw, device), true});
        return {slots.size() - 1, slots.back().stream};
    }

    void give_back(c10::DeviceIndex device, size_t slot) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = devices_.find(device);
        if (it != devices_.end() && slot < it->second.size()) {
            it->second[slot].busy = false;
        }
    }

private:
    struct Slot {
        c10::cuda::CUDAStream stream;
        bool busy;
    };
    std::mutex mutex_;
    std::map<c10::DeviceIndex, std::vector<Slot>> devices_;
};

StreamSlots& stream_slots() {
    static StreamSlots slots;
    return slots;
}

// What a model on a CUDA device keeps besides its module.
struct CudaState {
    std::optional<c10::cuda::CUDAStream> stream; // from stream_slots(); every call runs on it
    size_t slot = 0;                             // its slot there
    bool pinned = false;
    bool graphs = false; // turned off for good by a failed capture
    c10::MempoolId_t pool{0, 0}; // the memory pool all of this model's graphs share
    // Keyed by the input signature (see signature()).
    std::map<std::vector<int64_t>, std::unique_ptr<CapturedGraph>> captured;

    CudaState() = default;
    CudaState(const CudaState&) = delete;
    CudaState& operator=(const CudaState&) = delete;
    // The slot goes back with the model: after release_cuda when it is freed, or on a failed load.
    ~CudaState() {
        if (stream) {
            stream_slots().give_back(stream->device_index(), slot);
        }
    }
};
#endif

} // namespace

struct tl_model {
    int32_t format = TL_TORCHSCRIPT;
    c10::Device device{c10::kCPU};
    bool as_saved = false;
    // Set when the module's floating-point parameters were converted: floating inputs are cast to it.
    std::optional<at::ScalarType> input_cast;
    std::optional<torch::jit::Module> module;
#ifdef TL_WITH_AOTI
    std::unique_ptr<torch::inductor::AOTIModelPackageLoader> package;
#endif
    std::string notice;
#ifdef TL_WITH_CUDA
    std::unique_ptr<CudaState> cuda; // set for TL_CUDA models
#endif
};

struct tl_outputs {
    struct Output {
        at::Tensor tensor; // contiguous, on the CPU (in pinned memory for a CUDA model with pinned_buffers)
        std::string name;
        bool named = false;
        int32_t dtype = 0;
        std::vector<int64_t> shape;
        const void* data = nullptr; // NULL when the tensor is empty
        int64_t nbytes = 0;
    };
    std::vector<Output> items;
};

namespace {

thread_local std::string last_error;

int32_t fail(int32_t status, std::string message) {
    last_error = std::move(message);
    return status;
}

int32_t invalid(std::string message) {
    return fail(TL_INVALID_ARGUMENT, std::move(message));
}

// --- error messages and their classification ---

void trim_trailing(std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) {
        s.pop_back();
    }
}

// Cuts C++ backtraces ("Exception raised from ...", "frame #0: ...") off a libtorch message.
std::string strip_backtrace(std::string m) {
    for (const char* marker : {"Exception raised from ", "frame #0"}) {
        size_t at = m.find(marker);
        if (at != std::string::npos) {
            m.erase(at);
        }
    }
    trim_trailing(m);
    return m;
}

// The TorchScript interpreter reports a failure as "The following operation failed in the
// TorchScript interpreter. Traceback of TorchScript ... File "code/...", line N, in forward ...
// RuntimeError: <message>". Kept: the final "<Kind>Error: <message>" part and the innermost frame.
std::string shorten_interpreter_error(const std::string& m) {
    static const std::string head = "The following operation failed in the TorchScript interpreter.";
    if (m.compare(0, head.size(), head) != 0) {
        return m;
    }
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= m.size()) {
        size_t end = m.find('\n', start);
        if (end == std::string::npos) {
            end = m.size();
        }
        lines.push_back(m.substr(start, end - start));
        start = end + 1;
    }
    auto is_error_line = [](const std::string& line) {
        size_t colon = line.find(": ");
        if (colon == std::string::npos || colon == 0) {
            return false;
        }
        for (size_t i = 0; i < colon; ++i) {
            char c = line[i];
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) {
                return false;
            }
        }
        std::string kind = line.substr(0, colon);
        return kind.size() >= 5 &&
               (kind.compare(kind.size() - 5, 5, "Error") == 0 ||
                (kind.size() >= 9 && kind.compare(kind.size() - 9, 9, "Exception") == 0));
    };
    size_t error_line = lines.size();
    for (size_t i = lines.size(); i-- > 0;) {
        if (is_error_line(lines[i])) {
            error_line = i;
            break;
        }
    }
    if (error_line == lines.size()) {
        return m;
    }
    std::string frame;
    for (size_t i = 0; i < error_line; ++i) {
        size_t at = lines[i].find("File \"");
        if (at != std::string::npos) {
            frame = lines[i].substr(at);
        }
    }
    std::string out;
    for (size_t i = error_line; i < lines.size(); ++i) {
        if (!out.empty()) {
            out += '\n';
        }
        out += lines[i];
    }
    trim_trailing(out);
    if (!frame.empty()) {
        out += " (TorchScript " + frame + ")";
    }
    return out;
}

std::string clean_message(const char* raw) {
    std::string m = strip_backtrace(raw == nullptr ? std::string() : std::string(raw));
    m = shorten_interpreter_error(m);
    constexpr size_t limit = 2000;
    if (m.size() > limit) {
        m.erase(limit);
        m += " ...";
    }
    return m.empty() ? std::string("(no message)") : m;
}

// Out of (host or device) memory, as libtorch says it: its allocators' messages survive being
// rethrown as other exception types (the TorchScript interpreter rethrows a std::runtime_error, an
// AOTInductor runtime a generic error), so the classification reads the message as well.
bool is_out_of_memory_message(const std::string& m) {
    return m.find("out of memory") != std::string::npos ||
           m.find("DefaultCPUAllocator: can't allocate memory") != std::string::npos ||
           m.find("CUBLAS_STATUS_ALLOC_FAILED") != std::string::npos ||
           m.find("std::bad_alloc") != std::string::npos;
}

// A CUDA error that leaves the context unusable, as libtorch words it ("CUDA error: " and the
// runtime's cudaGetErrorString). Read from the message for the same reason as out of memory; the
// texts are the CUDA runtime's, stable across its releases.
bool is_device_fault_message(const std::string& m) {
    static const char* const faults[] = {
        "device-side assert triggered",
        "an illegal memory access was encountered",
        "unspecified launch failure",
        "misaligned address",
        "an illegal instruction was encountered",
        "hardware stack error",
        "invalid program counter",
        "operation not supported on global/shared address space",
        "the launch timed out and was terminated",
        "uncorrectable ECC error encountered",
    };
    size_t at = m.find("CUDA error: ");
    if (at == std::string::npos) {
        return false;
    }
    for (const char* fault : faults) {
        if (m.compare(at + 12, std::strlen(fault), fault) == 0) {
            return true;
        }
    }
    return false;
}

enum class Kind { unknown, out_of_memory, device_fault };

int32_t fail_from(const std::string& doing, std::string message, Kind kind) {
    int32_t status = TL_ERROR;
    if (kind == Kind::device_fault || is_device_fault_message(message)) {
        status = TL_DEVICE_FAULT;
    } else if (kind == Kind::out_of_memory || is_out_of_memory_message(message)) {
        status = TL_OUT_OF_MEMORY;
    }
    return fail(status, doing.empty() ? std::move(message) : doing + ": " + message);
}

#ifdef TL_WITH_CUDA
// The errors after which every CUDA call in the process fails (the context is poisoned).
bool is_sticky(cudaError_t e) {
    switch (e) {
        case cudaErrorAssert:
        case cudaErrorIllegalAddress:
        case cudaErrorLaunchFailure:
        case cudaErrorMisalignedAddress:
        case cudaErrorIllegalInstruction:
        case cudaErrorHardwareStackError:
        case cudaErrorInvalidPc:
        case cudaErrorInvalidAddressSpace:
        case cudaErrorLaunchTimeout:
        case cudaErrorECCUncorrectable:
            return true;
        default:
            return false;
    }
}
#endif

#ifdef TL_WITH_ACCELERATOR_ERROR
Kind accelerator_kind(const c10::AcceleratorError& e) {
#ifdef TL_WITH_CUDA
    auto code = static_cast<cudaError_t>(e.get_error_code());
    if (is_sticky(code)) {
        return Kind::device_fault;
    }
    if (code == cudaErrorMemoryAllocation) {
        return Kind::out_of_memory;
    }
#endif
    return Kind::unknown;
}
#endif

// Runs body, turning every exception into a status and a message prefixed with what was being
// done (doing may change while body runs). Nothing escapes, not even a failure to build the message.
template <class Body>
int32_t guarded(const std::string& doing, Body&& body) noexcept {
    try {
        try {
            return body();
        } catch (const c10::OutOfMemoryError& e) {
            return fail_from(doing, clean_message(e.what_without_backtrace()), Kind::out_of_memory);
#ifdef TL_WITH_ACCELERATOR_ERROR
        } catch (const c10::AcceleratorError& e) {
            return fail_from(doing, clean_message(e.what_without_backtrace()), accelerator_kind(e));
#endif
        } catch (const c10::Error& e) {
            return fail_from(doing, clean_message(e.what_without_backtrace()), Kind::unknown);
        } catch (const std::bad_alloc&) {
            return fail_from(doing, "out of host memory (std::bad_alloc)", Kind::out_of_memory);
        } catch (const std::exception& e) {
            return fail_from(doing, clean_message(e.what()), Kind::unknown);
        } catch (...) {
            return fail_from(doing, "unknown exception", Kind::unknown);
        }
    } catch (...) {
        try {
            last_error = "out of memory"; // short enough not to allocate
        } catch (...) {
        }
        return TL_OUT_OF_MEMORY;
    }
}

// --- datatypes ---

std::optional<at::ScalarType> to_scalar_type(int32_t dtype) {
    switch (dtype) {
        case TL_BOOL: return at::kBool;
        case TL_UINT8: return at::kByte;
        case TL_INT8: return at::kChar;
        case TL_INT16: return at::kShort;
        case TL_INT32: return at::kInt;
        case TL_INT64: return at::kLong;
        case TL_FP16: return at::kHalf;
        case TL_BF16: return at::kBFloat16;
        case TL_FP32: return at::kFloat;
        case TL_FP64: return at::kDouble;
        default: return std::nullopt;
    }
}

std::optional<int32_t> to_tl_dtype(at::ScalarType type) {
    switch (type) {
        case at::kBool: return TL_BOOL;
        case at::kByte: return TL_UINT8;
        case at::kChar: return TL_INT8;
        case at::kShort: return TL_INT16;
        case at::kInt: return TL_INT32;
        case at::kLong: return TL_INT64;
        case at::kHalf: return TL_FP16;
        case at::kBFloat16: return TL_BF16;
        case at::kFloat: return TL_FP32;
        case at::kDouble: return TL_FP64;
        default: return std::nullopt;
    }
}

bool is_floating(int32_t dtype) {
    return dtype == TL_FP16 || dtype == TL_BF16 || dtype == TL_FP32 || dtype == TL_FP64;
}

std::string device_name(const c10::Device& device) {
    return device.str();
}

// A short description of an IValue's type for messages, e.g. "Tuple[Tensor, Tensor]" or "NoneType".
std::string describe(const c10::IValue& value) {
    try {
        return value.type()->annotation_str();
    } catch (...) {
        return value.tagKind();
    }
}

// Converts the module's floating-point parameters and buffers (only those, as nn.Module.to(dtype)
// does; integer buffers such as BatchNorm's counters keep their type).
void convert_precision(torch::jit::Module& module, at::ScalarType type) {
    for (at::Tensor t : module.parameters()) {
        if (t.is_floating_point() && t.scalar_type() != type) {
            t.set_data(t.to(type));
        }
    }
    for (at::Tensor t : module.buffers()) {
        if (t.is_floating_point() && t.scalar_type() != type) {
            t.set_data(t.to(type));
        }
    }
}

// torch::jit::freeze inlines the methods forward calls, then deletes the ones it does not keep
// (CompilationUnit::unsafeRemoveMethod) while the inlined nodes' call stacks still point at them. The
// interpreter follows those pointers to name the frames of an error, so a forward that throws (an
// embedding id out of range, a model's own check) reads freed memory and can crash the process; a
// helper method of the root module called from forward is enough. True when every function that
// the call stacks of forward's nodes name is one the module's compilation unit still holds.
bool call_stacks_intact(const torch::jit::Module& module) {
    std::unordered_set<const torch::jit::Function*> live;
    for (const torch::jit::Function* f : module.type()->compilation_unit()->get_functions()) {
        live.insert(f);
    }
    std::vector<torch::jit::Block*> blocks{module.get_method("forward").graph()->block()};
    while (!blocks.empty()) {
        torch::jit::Block* block = blocks.back();
        blocks.pop_back();
        for (torch::jit::Node* node : block->nodes()) {
            for (torch::jit::Block* inner : node->blocks()) {
                blocks.push_back(inner);
            }
            if (node->hasAttribute(torch::jit::attr::Subgraph) &&
                node->kindOf(torch::jit::attr::Subgraph) == torch::jit::AttributeKind::g) {
                blocks.push_back(node->g(torch::jit::attr::Subgraph)->block());
            }
            for (auto cs = node->callstack(); cs; cs = (*cs)->callee()) {
                if (live.count((*cs)->function()) == 0) {
                    return false;
                }
            }
        }
    }
    return true;
}

// The module frozen and optimized for inference, with call stacks that name only live functions:
// first as torch.jit.freeze does by default; when that leaves call stacks pointing at deleted
// methods, again keeping the root module's own methods (forward's helpers), which freezing then
// does not delete. Empty when neither works: the caller keeps the module unfrozen.
std::optional<torch::jit::Module> frozen_for_inference(const torch::jit::Module& module, std::string& notice) {
    std::vector<std::string> own_methods;
    for (const torch::jit::Method& method : module.get_methods()) {
        const std::string& name = method.name();
        bool special = name.size() > 4 && name.rfind("__", 0) == 0 && name.compare(name.size() - 2, 2, "__") == 0;
        if (!special) {
            own_methods.push_back(name); // __getstate__ and the like would keep attributes from folding
        }
    }
    bool froze = false;
    for (bool keep_methods : {false, true}) {
        try {
            torch::jit::Module frozen =
                keep_methods ? torch::jit::freeze(module, own_methods) : torch::jit::freeze(module);
            torch::jit::Module optimized = torch::jit::optimize_for_inference(frozen);
            froze = true;
            if (call_stacks_intact(optimized)) {
                return optimized;
            }
        } catch (...) {
            // Not freezable this way (freeze works on a clone: module is untouched).
        }
    }
    if (froze) {
        notice = "kept unfrozen: freezing deleted methods that its error messages would refer to";
    }
    return std::nullopt;
}

bool has_cuda_build() {
#ifdef TL_WITH_CUDA
    return true;
#else
    return false;
#endif
}

// A forward's tensors in order, with their keys when it returned a dict.
using Results = std::vector<std::pair<std::optional<std::string>, at::Tensor>>;

// Collects the tensors of a forward's result in order, with their keys when it returned a dict.
void flatten_result(const c10::IValue& result, Results& out) {
    auto element = [&](const c10::IValue& v, const char* what, size_t i) -> at::Tensor {
        if (!v.isTensor()) {
            TORCH_CHECK(false, "element ", i, " of the ", what, " the model returned is a ", describe(v),
                        ", not a Tensor");
        }
        return v.toTensor();
    };
    if (result.isTensor()) {
        out.emplace_back(std::nullopt, result.toTensor());
    } else if (result.isTuple()) {
        const auto& elements = result.toTupleRef().elements();
        for (size_t i = 0; i < elements.size(); ++i) {
            out.emplace_back(std::nullopt, element(elements[i], "tuple", i));
        }
    } else if (result.isList()) {
        auto elements = result.toListRef();
        for (size_t i = 0; i < elements.size(); ++i) {
            out.emplace_back(std::nullopt, element(elements[i], "list", i));
        }
    } else if (result.isGenericDict()) {
        for (const auto& entry : result.toGenericDict()) { // c10::Dict keeps insertion order
            if (!entry.key().isString()) {
                TORCH_CHECK(false, "the model returned a dict with a key of type ", describe(entry.key()),
                            "; expected Dict[str, Tensor]");
            }
            const std::string& key = entry.key().toStringRef();
            if (!entry.value().isTensor()) {
                TORCH_CHECK(false, "entry '", key, "' of the dict the model returned is a ", describe(entry.value()),
                            ", not a Tensor");
            }
            out.emplace_back(key, entry.value().toTensor());
        }
    } else {
        TORCH_CHECK(false, "the model returned ", describe(result),
                    "; expected a Tensor, a tuple or list of Tensors, or a Dict[str, Tensor]");
    }
}

// Runs the model's forward: the TorchScript module, or the AOTInductor package on stream (a
// cudaStream_t; NULL: the current stream).
Results forward(tl_model& model, const std::vector<at::Tensor>& in, void* stream) {
    Results results;
    if (model.module) {
        std::vector<c10::IValue> args(in.begin(), in.end());
        flatten_result(model.module->forward(std::move(args)), results);
    } else {
#ifdef TL_WITH_AOTI
        for (at::Tensor& t : model.package->run(in, stream)) {
            results.emplace_back(std::nullopt, std::move(t));
        }
#endif
    }
    return results;
}

// Output i as it will be handed over, still where the model left it: dense, in float_outputs[i]
// when that applies, of a type the ABI has.
at::Tensor prepare_output(at::Tensor t, size_t i, const int32_t* float_outputs, int32_t n_float_outputs,
                          int32_t* dtype) {
    TORCH_CHECK(t.defined(), "the model returned an undefined tensor");
    if (t.layout() != c10::kStrided) {
        t = t.to_dense();
    }
    if (static_cast<int32_t>(i) < n_float_outputs && float_outputs[i] >= 0 && is_floating(float_outputs[i]) &&
        t.is_floating_point()) {
        at::ScalarType wanted = *to_scalar_type(float_outputs[i]);
        if (t.scalar_type() != wanted) {
            t = t.to(wanted);
        }
    }
    auto code = to_tl_dtype(t.scalar_type());
    TORCH_CHECK(code.has_value(), "its datatype ", c10::toString(t.scalar_type()), " has no torchlight datatype");
    *dtype = *code;
    return t;
}

// The outputs handle over contiguous CPU tensors. An output that shares memory with an input (an
// identity forward, a view of an input) is copied, so that outputs never point into the caller's
// input buffers.
std::unique_ptr<tl_outputs> make_outputs(Results& results, const std::vector<int32_t>& dtypes,
                                         const tl_tensor* inputs, int32_t n_inputs) {
    auto out = std::make_unique<tl_outputs>();
    out->items.reserve(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
        at::Tensor t = std::move(results[i].second).contiguous();
        if (t.nbytes() > 0) {
            const char* p = static_cast<const char*>(t.storage().data());
            for (int32_t k = 0; k < n_inputs; ++k) {
                const char* b = static_cast<const char*>(inputs[k].data);
                if (b != nullptr && p >= b && p < b + inputs[k].nbytes) {
                    t = t.clone();
                    break;
                }
            }
        }
        tl_outputs::Output o;
        o.dtype = dtypes[i];
        o.shape.assign(t.sizes().begin(), t.sizes().end());
        o.nbytes = static_cast<int64_t>(t.nbytes());
        o.data = o.nbytes == 0 ? nullptr : t.const_data_ptr();
        if (results[i].first) {
            o.named = true;
            o.name = *results[i].first;
        }
        o.tensor = std::move(t);
        out->items.push_back(std::move(o));
    }
    return out;
}

// A CPU tensor over the caller's memory, read in place.
at::Tensor wrap_input(const tl_tensor& t) {
    auto options = at::TensorOptions().dtype(*to_scalar_type(t.dtype)).device(c10::kCPU);
    std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
    return t.nbytes == 0 ? at::empty(shape, options) : torch::from_blob(const_cast<void*>(t.data), shape, options);
}

#ifdef TL_WITH_CUDA
// --- CUDA ---

// The shapes of tensors for messages, e.g. "[8, 64], [8]".
std::string describe_shapes(const std::vector<at::Tensor>& tensors) {
    std::string out;
    for (const at::Tensor& t : tensors) {
        if (!out.empty()) {
            out += ", ";
        }
        out += '[';
        for (int64_t d = 0; d < t.dim(); ++d) {
            out += (d == 0 ? "" : ", ") + std::to_string(t.size(d));
        }
        out += ']';
    }
    return out.empty() ? std::string("(no inputs)") : out;
}

// Forward runs this many times eagerly on a new input signature before its graph is captured.
constexpr int kGraphWarmupRuns = 3;
// Input signatures captured per model at most; calls with others run eagerly.
constexpr size_t kMaxGraphs = 256;

// Gives the caching allocator's unused blocks back to the driver; a no-op before libtorch uses CUDA.
void empty_cuda_cache() noexcept {
    try {
        auto* allocator = c10::cuda::CUDACachingAllocator::get();
        if (allocator != nullptr && allocator->initialized()) {
            c10::cuda::CUDACachingAllocator::emptyCache();
        }
    } catch (...) {
    }
}

// The sticky error that poisons the model's device context, or cudaSuccess.
cudaError_t context_fault(const tl_model& model) noexcept {
    if (!model.cuda || !model.cuda->stream) {
        return cudaSuccess;
    }
    cudaError_t e = cudaStreamQuery(model.cuda->stream->stream());
    return is_sticky(e) ? e : cudaSuccess;
}

// The input signature a graph is captured for: each input's type and shape.
std::vector<int64_t> signature(const std::vector<at::Tensor>& in) {
    std::vector<int64_t> key;
    for (const at::Tensor& t : in) {
        key.push_back(static_cast<int64_t>(t.scalar_type()));
        key.push_back(t.dim());
        key.insert(key.end(), t.sizes().begin(), t.sizes().end());
    }
    return key;
}

// The host caching allocator routes pinned allocations to graph pools in newer libtorch releases
// only (the calls exist there and nowhere else); A is at::HostAllocator.
template <class A>
void end_host_pool(A* allocator, c10::MempoolId_t pool) {
    if constexpr (requires { allocator->end_allocate_to_pool(pool); allocator->release_pool(pool); }) {
        try {
            allocator->end_allocate_to_pool(pool);
            allocator->release_pool(pool);
        } catch (...) {
        }
    }
}

// A capture that CUDA invalidated (an operation forward ran is not allowed while capturing):
// CUDAGraph::capture_end would throw before it undoes capture_begin's routing of allocations to the
// pool, leaving the allocator calling into the graph object. This ends the capture and does what
// capture_end and the graph's destructor would have done after a good one.
void drop_invalidated_capture(CudaState& cs, c10::DeviceIndex device) {
    cudaGraph_t partial = nullptr;
    (void)cudaStreamEndCapture(cs.stream->stream(), &partial);
    if (partial != nullptr) {
        (void)cudaGraphDestroy(partial);
    }
    (void)cudaGetLastError();
    try {
        c10::cuda::CUDACachingAllocator::endAllocateToPool(device, cs.pool);
        c10::cuda::CUDACachingAllocator::releasePool(device, cs.pool);
    } catch (...) {
    }
    end_host_pool(at::getHostAllocator(at::kCUDA), cs.pool);
}

// Cleans up after a capture that failed. A graph whose state cannot be told (capture_begin or
// capture_end failed part-way) is never freed: the allocator may still hold a filter that calls
// into it, and a leaked object is cheaper than a dangling one.
void abandon_capture(std::unique_ptr<at::cuda::CUDAGraph> graph, bool began, CudaState& cs,
                     c10::DeviceIndex device) noexcept {
    try {
        if (began) {
            cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
            cudaError_t e = cudaStreamIsCapturing(cs.stream->stream(), &status);
            if (e == cudaSuccess && status == cudaStreamCaptureStatusInvalidated) {
                drop_invalidated_capture(cs, device);
                graph.reset();
                return;
            }
            if (e == cudaSuccess && status == cudaStreamCaptureStatusActive) {
                graph->capture_end(); // a forward that threw without breaking the capture
                graph.reset();
                return;
            }
            (void)graph->pool(); // throws unless capture_end got as far as its bookkeeping
            graph.reset();
            return;
        }
    } catch (...) {
    }
    (void)graph.release();
    (void)cudaGetLastError();
}

// Captures forward on copies of in (the graph's static inputs) into the model's pool. Null with
// why set when the model cannot be captured; a device fault is thrown.
std::unique_ptr<CapturedGraph> capture(tl_model& model, CudaState& cs, const std::vector<at::Tensor>& in,
                                       std::string& why) {
    auto g = std::make_unique<CapturedGraph>();
    for (const at::Tensor& x : in) {
        g->static_inputs.push_back(x.clone());
    }
    auto graph = std::make_unique<at::cuda::CUDAGraph>();
    bool began = false;
    try {
        // Thread-local mode: other instances' threads keep calling CUDA while this one captures.
        graph->capture_begin(cs.pool, cudaStreamCaptureModeThreadLocal);
        began = true;
        std::vector<c10::IValue> args(g->static_inputs.begin(), g->static_inputs.end());
        flatten_result(model.module->forward(std::move(args)), g->static_outputs);
        cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
        C10_CUDA_CHECK(cudaStreamIsCapturing(cs.stream->stream(), &status));
        TORCH_CHECK(status == cudaStreamCaptureStatusActive,
                    "CUDA invalidated the capture (forward synchronizes with the device or calls something "
                    "a capture cannot record)");
        graph->capture_end();
    } catch (const c10::Error& e) {
        why = clean_message(e.what_without_backtrace());
    } catch (const std::exception& e) {
        why = clean_message(e.what());
    }
    if (!why.empty()) {
        g->static_outputs.clear();
        abandon_capture(std::move(graph), began, cs, model.device.index());
        cudaError_t fault = context_fault(model);
        TORCH_CHECK(fault == cudaSuccess, "CUDA error: ", cudaGetErrorString(fault), " (while capturing a CUDA graph: ",
                    why, ")");
        return nullptr;
    }
    g->graph = std::move(graph);
    for (size_t i = 0; i < g->static_outputs.size(); ++i) {
        const at::Tensor& t = g->static_outputs[i].second;
        if (t.defined() && t.device() != model.device) {
            why = "output " + std::to_string(i) + " is on " + device_name(t.device()) + ", and work off " +
                  device_name(model.device) + " is not recorded in a CUDA graph";
            return nullptr;
        }
    }
    return g;
}

// Forward through the CUDA graph of the inputs' signature, capturing it on first sight.
// The caller's turn at the gate is given up while the capture holds it alone, then taken again.
Results run_graphed(tl_model& model, CudaState& cs, const std::vector<at::Tensor>& in, GateTurn& turn,
                    std::string& doing) {
    void* stream = cs.stream->stream();
    std::vector<int64_t> key = signature(in);
    auto found = cs.captured.find(key);
    if (found != cs.captured.end()) {
        CapturedGraph& g = *found->second;
        for (size_t i = 0; i < in.size(); ++i) {
            g.static_inputs[i].copy_(in[i], /*non_blocking=*/true);
        }
        doing = "replaying the model's CUDA graph";
        g.graph->replay();
        return g.static_outputs;
    }
    if (cs.captured.size() >= kMaxGraphs) {
        if (model.notice.empty()) {
            model.notice = "CUDA graphs: " + std::to_string(kMaxGraphs) +
                           " input shapes captured, the most per model; other shapes run eagerly";
        }
        return forward(model, in, stream);
    }
    Results eager;
    for (int run = 0; run < kGraphWarmupRuns; ++run) {
        eager.clear();
        eager = forward(model, in, stream);
    }
    doing = "capturing the model's CUDA graph";
    std::string why;
    std::unique_ptr<CapturedGraph> g;
    turn.unlock();
    {
        auto alone = capture_gate().alone();
        g = capture(model, cs, in, why);
    }
    turn.lock();
    if (!g) {
        cs.graphs = false;
        cs.captured.clear();
        empty_cuda_cache(); // the pool of the graphs just dropped
        model.notice = "CUDA graph capture failed for input shapes " + describe_shapes(in) +
                       ", running eagerly from now on: " + why;
        return eager;
    }
    doing = "replaying the model's CUDA graph";
    g->graph->replay();
    Results out = g->static_outputs;
    cs.captured.emplace(std::move(key), std::move(g));
    return out;
}

// Whether p lies in page-locked host memory (tl_pinned_alloc's or any other), which the device can
// copy from asynchronously.
bool in_pinned_memory(const void* p) noexcept {
    cudaPointerAttributes attributes{};
    if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
        (void)cudaGetLastError(); // not sticky: clear it so that it is not reported by a later call
        return false;
    }
    return attributes.type == cudaMemoryTypeHost;
}

// Synchronizes the stream when the scope is left by an exception.
struct SyncOnFailure {
    c10::cuda::CUDAStream stream;
    bool done = false;
    ~SyncOnFailure() {
        if (!done) {
            (void)cudaStreamSynchronize(stream.stream());
            (void)cudaGetLastError();
        }
    }
};

// A run on the model's CUDA device, all of it queued on the model's stream with one synchronization
// at the end. Inputs in pinned memory (tl_pinned_alloc) are copied to the device from where they are;
// with pinned buffers the others are first copied into pinned host memory (libtorch's caching host
// allocator), so that every copy to the device is asynchronous, and the outputs come back into pinned
// memory that the outputs handle owns.
int32_t run_on_cuda(tl_model& model, const tl_tensor* inputs, int32_t n_inputs, const int32_t* float_outputs,
                    int32_t n_float_outputs, tl_outputs** outputs, GateTurn& turn, std::string& doing) {
    CudaState& cs = *model.cuda;
    c10::cuda::CUDAStreamGuard on_stream(*cs.stream);
    // Copies from the caller's pinned memory are asynchronous: until the stream has finished them, the
    // caller must not write there, so a failed run waits for its stream before returning.
    SyncOnFailure sync_on_failure{*cs.stream};
    std::vector<at::Tensor> in;
    in.reserve(static_cast<size_t>(n_inputs));
    for (int32_t i = 0; i < n_inputs; ++i) {
        doing = "copying input " + std::to_string(i) + " to " + device_name(model.device);
        const tl_tensor& t = inputs[i];
        at::Tensor host = wrap_input(t);
        bool async = t.nbytes > 0 && in_pinned_memory(t.data);
        if (cs.pinned && t.nbytes > 0 && !async) {
            at::Tensor staged = at::empty(host.sizes(), host.options().pinned_memory(true));
            std::memcpy(staged.mutable_data_ptr(), t.data, static_cast<size_t>(t.nbytes));
            host = staged;
            async = true;
        }
        at::Tensor x = host.to(at::TensorOptions().device(model.device), /*non_blocking=*/async);
        if (model.input_cast && x.is_floating_point() && x.scalar_type() != *model.input_cast) {
            x = x.to(*model.input_cast);
        }
        in.push_back(std::move(x));
    }

    doing = "running the model's forward";
    Results results = cs.graphs && model.module ? run_graphed(model, cs, in, turn, doing)
                                                : forward(model, in, cs.stream->stream());

    std::vector<int32_t> dtypes(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
        doing = "reading output " + std::to_string(i);
        at::Tensor t = prepare_output(std::move(results[i].second), i, float_outputs, n_float_outputs, &dtypes[i]);
        at::Tensor host = at::empty(t.sizes(), at::TensorOptions().dtype(t.scalar_type()).pinned_memory(cs.pinned));
        host.copy_(t, /*non_blocking=*/cs.pinned);
        results[i].second = std::move(host);
    }
    doing = "waiting for " + device_name(model.device);
    cs.stream->synchronize();
    sync_on_failure.done = true;
    *outputs = make_outputs(results, dtypes, inputs, n_inputs).release();
    return TL_OK;
}

// Frees what a CUDA model holds on its device and gives the caching allocator's unused memory back.
void release_cuda(tl_model& model) noexcept {
    try {
        c10::cuda::CUDAGuard on_device(model.device);
        try {
            model.cuda->stream->synchronize();
        } catch (...) {
        }
        model.cuda->captured.clear();
        model.module.reset();
#ifdef TL_WITH_AOTI
        model.package.reset();
#endif
        empty_cuda_cache();
    } catch (...) {
    }
}
#endif // TL_WITH_CUDA

int32_t load_model(const char* path, const tl_load_options* options, tl_model** model, std::string& doing) {
    if (model == nullptr) {
        return invalid("tl_model_load: model is NULL");
    }
    *model = nullptr;
    if (path == nullptr || options == nullptr) {
        return invalid(path == nullptr ? "tl_model_load: path is NULL" : "tl_model_load: options is NULL");
    }
    const tl_load_options o = *options;
    if (o.format != TL_TORCHSCRIPT && o.format != TL_AOTI) {
        return invalid("unknown model format " + std::to_string(o.format));
    }
    if (o.device_type != TL_CPU && o.device_type != TL_CUDA && o.device_type != TL_AS_SAVED) {
        return invalid("unknown device type " + std::to_string(o.device_type));
    }
    if (o.device_type != TL_CUDA && o.device_index != -1) {
        return invalid("device_index must be -1 " +
                       std::string(o.device_type == TL_CPU ? "on the CPU" : "for a model loaded as saved") + ", got " +
                       std::to_string(o.device_index));
    }
    if (o.device_type == TL_CUDA && o.device_index < 0) {
        return invalid("a CUDA device_index must be >= 0, got " + std::to_string(o.device_index));
    }
    if (o.precision != TL_FP32 && o.precision != TL_FP16 && o.precision != TL_BF16) {
        return invalid("unknown precision " + std::to_string(o.precision) + " (expected FP32, FP16 or BF16)");
    }
    if (o.optimize != 0 && o.optimize != 1) {
        return invalid("optimize must be 0 or 1, got " + std::to_string(o.optimize));
    }
    const std::pair<const char*, int32_t> flags[] = {
        {"cudnn_benchmark", o.cudnn_benchmark}, {"cuda_graphs", o.cuda_graphs}, {"pinned_buffers", o.pinned_buffers}};
    for (const auto& [name, value] : flags) {
        if (value != 0 && value != 1) {
            return invalid(std::string(name) + " must be 0 or 1, got " + std::to_string(value));
        }
    }
    if (o.format == TL_AOTI && o.precision != TL_FP32) {
        return invalid("precision conversion applies to TorchScript only; an AOTInductor package runs in the "
                       "precision it was compiled with");
    }
    if (o.format == TL_AOTI && o.device_type == TL_AS_SAVED) {
        return invalid("TL_AS_SAVED applies to TorchScript only; an AOTInductor package runs on the device it was "
                       "compiled for");
    }
    const std::string file(path);
    doing = std::string(o.format == TL_AOTI ? "loading AOTInductor package '" : "loading TorchScript model '") + file +
            "'";
    c10::Device device(c10::kCPU);
    if (o.device_type == TL_CUDA) {
        if (!has_cuda_build()) {
            return fail(TL_ERROR, doing + ": this build of libtorch has no CUDA");
        }
        int64_t count = torch::cuda::device_count();
        if (o.device_index >= count) {
            return fail(TL_ERROR, doing + ": no CUDA device " + std::to_string(o.device_index) + " (" +
                                      std::to_string(count) + " visible)");
        }
        device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(o.device_index));
    }
    auto m = std::make_unique<tl_model>();
    m->format = o.format;
    m->device = device;
    m->as_saved = o.device_type == TL_AS_SAVED;
#ifdef TL_WITH_CUDA
    // Loading runs on the model's stream too, so that its weights belong to it in the allocator.
    std::optional<c10::cuda::CUDAStreamGuard> on_stream;
    if (o.device_type == TL_CUDA) {
        m->cuda = std::make_unique<CudaState>();
        std::tie(m->cuda->slot, m->cuda->stream) = stream_slots().take(device.index());
        m->cuda->pinned = o.pinned_buffers == 1;
        m->cuda->graphs = o.cuda_graphs == 1 && o.format == TL_TORCHSCRIPT;
        if (m->cuda->graphs) {
            m->cuda->pool = at::cuda::graph_pool_handle();
        }
        on_stream.emplace(*m->cuda->stream);
        if (o.cudnn_benchmark == 1) {
            at::globalContext().setBenchmarkCuDNN(true); // process-wide: libtorch has no per-model setting
        }
        if (o.cuda_graphs == 1 && o.format == TL_AOTI) {
            m->notice = "cuda_graphs applies to TorchScript models only; this AOTInductor package runs without "
                        "CUDA graphs";
        }
    }
    // A model loaded as saved places its own parts, on GPUs too (a network split across two of them):
    // its convolutions are timed like a GPU instance's. The switch is process-wide either way.
    if (o.device_type == TL_AS_SAVED && o.cudnn_benchmark == 1 && torch::cuda::device_count() > 0) {
        at::globalContext().setBenchmarkCuDNN(true);
    }
#endif
    if (o.format == TL_TORCHSCRIPT) {
        torch::NoGradGuard no_grad;
        torch::jit::Module module = m->as_saved ? torch::jit::load(file) : torch::jit::load(file, device);
        module.eval();
        if (o.precision != TL_FP32) {
            at::ScalarType type = o.precision == TL_FP16 ? at::kHalf : at::kBFloat16;
            convert_precision(module, type);
            m->input_cast = type;
        }
        if (o.optimize == 1) {
            // Kept unfrozen when it cannot be frozen (see tl_model_load).
            if (std::optional<torch::jit::Module> frozen = frozen_for_inference(module, m->notice)) {
                module = std::move(*frozen);
            }
        }
        m->module = std::move(module);
    } else {
#ifdef TL_WITH_AOTI
        const c10::DeviceIndex index =
            o.device_type == TL_CUDA ? static_cast<c10::DeviceIndex>(o.device_index) : c10::DeviceIndex(-1);
        // (package path, model name inside the package, run_single_threaded, num_runners, device_index)
        m->package = std::make_unique<torch::inductor::AOTIModelPackageLoader>(file, "model", false, 1, index);
        auto metadata = m->package->get_metadata();
        auto key = metadata.find("AOTI_DEVICE_KEY");
        if (key != metadata.end()) {
            std::string compiled_for = key->second;
            std::string wanted = o.device_type == TL_CUDA ? "cuda" : "cpu";
            if (compiled_for != wanted) {
                return fail(TL_ERROR, doing + ": the package was compiled for " + compiled_for +
                                          ", not for the requested " + device_name(device));
            }
        }
#else
        return fail(TL_ERROR, doing + ": this build of libtorch has no AOTInductor package loader");
#endif
    }
#ifdef TL_WITH_CUDA
    if (m->cuda) {
        m->cuda->stream->synchronize(); // a failure to place the weights shows here, at load
    }
#endif
    *model = m.release();
    return TL_OK;
}

int32_t run_model(tl_model* model, const tl_tensor* inputs, int32_t n_inputs, const int32_t* float_outputs,
                  int32_t n_float_outputs, tl_outputs** outputs, GateTurn& turn, std::string& doing) {
    if (outputs == nullptr) {
        return invalid("tl_model_run: outputs is NULL");
    }
    *outputs = nullptr;
    if (model == nullptr) {
        return invalid("tl_model_run: model is NULL");
    }
    if (n_inputs < 0 || (n_inputs > 0 && inputs == nullptr)) {
        return invalid("tl_model_run: " + std::to_string(n_inputs) + " inputs at " +
                       (inputs == nullptr ? "NULL" : "a pointer"));
    }
    if (n_float_outputs < 0 || (n_float_outputs > 0 && float_outputs == nullptr)) {
        return invalid("tl_model_run: " + std::to_string(n_float_outputs) + " float_outputs at " +
                       (float_outputs == nullptr ? "NULL" : "a pointer"));
    }
    for (int32_t i = 0; i < n_float_outputs; ++i) {
        if (float_outputs[i] >= 0 && !to_scalar_type(float_outputs[i])) {
            return invalid("float_outputs[" + std::to_string(i) + "] is an unknown datatype " +
                           std::to_string(float_outputs[i]));
        }
    }
    for (int32_t i = 0; i < n_inputs; ++i) {
        const tl_tensor& t = inputs[i];
        const std::string which = "input " + std::to_string(i);
        auto type = to_scalar_type(t.dtype);
        if (!type) {
            return invalid(which + " has an unknown datatype " + std::to_string(t.dtype));
        }
        if (t.ndim < 0 || t.ndim > 16 || (t.ndim > 0 && t.shape == nullptr)) {
            return invalid(which + " has " + std::to_string(t.ndim) + " dimensions" +
                           (t.ndim > 0 && t.shape == nullptr ? " and a NULL shape" : " (0 to 16 allowed)"));
        }
        int64_t numel = 1;
        for (int32_t d = 0; d < t.ndim; ++d) {
            if (t.shape[d] < 0) {
                return invalid(which + " has a negative size in dimension " + std::to_string(d));
            }
            numel *= t.shape[d];
        }
        int64_t expected = numel * static_cast<int64_t>(c10::elementSize(*type));
        if (t.nbytes != expected) {
            return invalid(which + " has " + std::to_string(t.nbytes) + " bytes; its shape and datatype need " +
                           std::to_string(expected));
        }
        if (t.nbytes > 0 && t.data == nullptr) {
            return invalid(which + " has NULL data");
        }
    }

    doing = "running the model";
    c10::InferenceMode inference;
#ifdef TL_WITH_CUDA
    if (model->cuda) {
        return run_on_cuda(*model, inputs, n_inputs, float_outputs, n_float_outputs, outputs, turn, doing);
    }
#endif
    // On the CPU, or as saved: inputs stay CPU tensors over the caller's memory.
    std::vector<at::Tensor> in;
    in.reserve(static_cast<size_t>(n_inputs));
    for (int32_t i = 0; i < n_inputs; ++i) {
        at::Tensor x = wrap_input(inputs[i]);
        if (model->input_cast && x.is_floating_point() && x.scalar_type() != *model->input_cast) {
            x = x.to(*model->input_cast);
        }
        in.push_back(std::move(x));
    }

    doing = "running the model's forward";
    Results results = forward(*model, in, nullptr);
    std::vector<int32_t> dtypes(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
        doing = "reading output " + std::to_string(i);
        at::Tensor t = prepare_output(std::move(results[i].second), i, float_outputs, n_float_outputs, &dtypes[i]);
        results[i].second = t.is_cpu() ? std::move(t) : t.to(c10::kCPU); // as saved: from wherever it is
    }
    *outputs = make_outputs(results, dtypes, inputs, n_inputs).release();
    return TL_OK;
}

// What a failed call on a model leaves behind: out of memory empties the CUDA cache so that a smaller
// batch finds the room, and a plain error on a device whose context is now broken is a device fault.
int32_t after_failure(const tl_model* model, int32_t status) noexcept {
#ifdef TL_WITH_CUDA
    if (status == TL_OUT_OF_MEMORY) {
        empty_cuda_cache();
    } else if (status == TL_ERROR && model != nullptr) {
        cudaError_t fault = context_fault(*model);
        if (fault != cudaSuccess) {
            try {
                last_error += std::string(" (CUDA error: ") + cudaGetErrorString(fault) + ")";
            } catch (...) {
            }
            return TL_DEVICE_FAULT;
        }
    }
#endif
    return status;
}

} // namespace

extern "C" {

const char* tl_last_error(void) {
    return last_error.c_str();
}

const char* tl_libtorch_version(void) {
    return TORCH_VERSION;
}

// TL_FEATURE_AOTI when libtorch's headers have the AOTInductor package loader; TL_FEATURE_CUDA when
// the build linked a CUDA libtorch (Torch's CMake package reported CUDA, see CMakeLists.txt). Both
// describe the build, not the machine: tl_cuda_device_count says whether devices are present.
int32_t tl_build_features(void) {
    int32_t features = 0;
#ifdef TL_WITH_AOTI
    features |= TL_FEATURE_AOTI;
#endif
    if (has_cuda_build()) {
        features |= TL_FEATURE_CUDA;
    }
    return features;
}

int32_t tl_cuda_device_count(void) {
    try {
        return has_cuda_build() ? static_cast<int32_t>(torch::cuda::device_count()) : 0;
    } catch (...) {
        return 0;
    }
}

// TL_OK when this build has CUDA and `device` is a visible ordinal; else the failure, recorded.
static int32_t require_cuda_device(int32_t device) {
    if (!has_cuda_build()) {
        return fail(TL_ERROR, "this build of libtorch has no CUDA");
    }
    int64_t count = torch::cuda::device_count();
    if (device < 0 || device >= count) {
        return invalid("no CUDA device " + std::to_string(device) + " (" + std::to_string(count) + " visible)");
    }
    return TL_OK;
}

// Without CUDA in the build: TL_ERROR (there is no device to describe).
int32_t tl_cuda_memory_info(int32_t device, int64_t* free_bytes, int64_t* total_bytes) {
    return guarded("reading CUDA device " + std::to_string(device) + "'s memory", [&]() -> int32_t {
        if (free_bytes == nullptr || total_bytes == nullptr) {
            return invalid("tl_cuda_memory_info: a result pointer is NULL");
        }
        *free_bytes = 0;
        *total_bytes = 0;
        int32_t status = require_cuda_device(device);
        if (status != TL_OK) {
            return status;
        }
#ifdef TL_WITH_CUDA
        GateTurn turn = capture_gate().share();
        c10::cuda::CUDAGuard on_device(static_cast<c10::DeviceIndex>(device));
        size_t free_memory = 0;
        size_t total_memory = 0;
        C10_CUDA_CHECK(cudaMemGetInfo(&free_memory, &total_memory));
        *free_bytes = static_cast<int64_t>(free_memory);
        *total_bytes = static_cast<int64_t>(total_memory);
#endif
        return TL_OK;
    });
}

// Without CUDA in the build: TL_ERROR (there is no device to describe).
int32_t tl_cuda_allocator_stats(int32_t device, int64_t* allocated_bytes, int64_t* reserved_bytes,
                                int64_t* peak_allocated_bytes) {
    return guarded("reading CUDA device " + std::to_string(device) + "'s allocator statistics", [&]() -> int32_t {
        if (allocated_bytes == nullptr || reserved_bytes == nullptr || peak_allocated_bytes == nullptr) {
            return invalid("tl_cuda_allocator_stats: a result pointer is NULL");
        }
        *allocated_bytes = 0;
        *reserved_bytes = 0;
        *peak_allocated_bytes = 0;
        int32_t status = require_cuda_device(device);
        if (status != TL_OK) {
            return status;
        }
#ifdef TL_WITH_CUDA
        auto* allocator = c10::cuda::CUDACachingAllocator::get();
        if (allocator == nullptr || !allocator->initialized()) {
            return TL_OK; // libtorch has not used CUDA yet
        }
        auto stats = allocator->getDeviceStats(static_cast<c10::DeviceIndex>(device));
        constexpr size_t aggregate = 0; // StatType::AGGREGATE: all pools, small and large
        *allocated_bytes = stats.allocated_bytes[aggregate].current;
        *reserved_bytes = stats.reserved_bytes[aggregate].current;
        *peak_allocated_bytes = stats.allocated_bytes[aggregate].peak;
#endif
        return TL_OK;
    });
}

int32_t tl_cuda_empty_cache(void) {
#ifdef TL_WITH_CUDA
    GateTurn turn = share_or_none();
    empty_cuda_cache();
#endif
    return TL_OK;
}

// cudaHostAlloc and cudaFreeHost (which waits for the whole device) under a share of the gate, so
// that neither happens during a capture.
int32_t tl_pinned_alloc(int64_t nbytes, void** data) {
    return guarded("allocating pinned host memory", [&]() -> int32_t {
        if (data == nullptr) {
            return invalid("tl_pinned_alloc: data is NULL");
        }
        *data = nullptr;
        if (nbytes <= 0) {
            return invalid("tl_pinned_alloc: nbytes must be > 0, got " + std::to_string(nbytes));
        }
#ifdef TL_WITH_CUDA
        if (torch::cuda::device_count() == 0) {
            return fail(TL_ERROR, "cannot pin host memory: no CUDA device is visible");
        }
        GateTurn turn = capture_gate().share();
        void* p = nullptr;
        cudaError_t e = cudaHostAlloc(&p, static_cast<size_t>(nbytes), cudaHostAllocPortable);
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            return fail(e == cudaErrorMemoryAllocation ? TL_OUT_OF_MEMORY : TL_ERROR,
                        "cannot pin " + std::to_string(nbytes) + " bytes of host memory: " + cudaGetErrorString(e));
        }
        *data = p;
        return TL_OK;
#else
        return fail(TL_ERROR, "cannot pin host memory: this build of libtorch has no CUDA");
#endif
    });
}

void tl_pinned_free(void* data) {
#ifdef TL_WITH_CUDA
    if (data != nullptr) {
        GateTurn turn = share_or_none();
        (void)cudaFreeHost(data);
        (void)cudaGetLastError();
    }
#else
    (void)data;
#endif
}

// at::set_num_threads sets libtorch's intra-op parallelism. With OpenMP (the PyTorch wheels) the
// setting belongs to the calling thread (omp_set_num_threads), which is why the Java side applies
// it on the thread that runs the model.
int32_t tl_set_intra_op_threads(int32_t threads) {
    return guarded("setting intra-op threads", [&] {
        if (threads < 1) {
            return invalid("intra-op threads must be at least 1, got " + std::to_string(threads));
        }
        at::set_num_threads(threads);
        return TL_OK;
    });
}

int32_t tl_get_intra_op_threads(void) {
    try {
        return static_cast<int32_t>(at::get_num_threads());
    } catch (...) {
        return 1;
    }
}

// Loads a model. TorchScript: torch::jit::load onto the device (TL_AS_SAVED: where it was saved),
// eval(), precision conversion of the floating-point parameters and buffers, then (optimize)
// torch::jit::freeze and optimize_for_inference. Some modules cannot be frozen (e.g. ones that mutate
// attributes in forward or call through interfaces); when freezing or optimizing fails, or would leave
// error call stacks naming deleted methods (frozen_for_inference), the unfrozen module is kept and the
// load still succeeds: optimize is a best effort, not a requirement.
// AOTInductor (.pt2): torch::inductor::AOTIModelPackageLoader; the package decides the device it was
// compiled for, which must be the requested one. precision is TorchScript only (an AOTInductor
// package runs in the precision it was compiled with) and optimize is ignored for packages.
// On CUDA the model takes a stream of its own (stream_slots(): one a freed model gave back, or a new one) and loads on it.
int32_t tl_model_load(const char* path, const tl_load_options* options, tl_model** model) {
    std::string doing = "tl_model_load";
    GateTurn turn; // held until after after_failure, which may empty the cache
    int32_t status = guarded(doing, [&] {
        if (options != nullptr && options->device_type != TL_CPU) {
            turn = capture_gate().share();
        }
        return load_model(path, options, model, doing);
    });
    return status == TL_OUT_OF_MEMORY ? after_failure(nullptr, status) : status;
}

void tl_model_free(tl_model* model) {
    if (model == nullptr) {
        return;
    }
#ifdef TL_WITH_CUDA
    if (model->cuda) {
        GateTurn turn = share_or_none();
        release_cuda(*model);
    }
#endif
    try {
        delete model;
    } catch (...) {
    }
}

namespace {

// A value of this type cannot be changed in place: plain scalars, strings, and tuples or optionals of
// those. Tensors, lists, dicts and objects can.
bool immutable(const c10::TypePtr& type) {
    switch (type->kind()) {
        case c10::TypeKind::IntType:
        case c10::TypeKind::FloatType:
        case c10::TypeKind::BoolType:
        case c10::TypeKind::StringType:
        case c10::TypeKind::NoneType:
        case c10::TypeKind::DeviceObjType:
        case c10::TypeKind::NumberType:
        case c10::TypeKind::ComplexType:
            return true;
        case c10::TypeKind::TupleType:
        case c10::TypeKind::OptionalType:
            for (const c10::TypePtr& contained : type->containedTypes()) {
                if (!immutable(contained)) {
                    return false;
                }
            }
            return true;
        default:
            return false;
    }
}

// Why forward may change the module's state: it sets an attribute, or writes into a tensor it reads
// from one (a running statistic, a counter, a cache), or reads a mutable container attribute. "" when
// it does none of these, so that threads can run it at once on one module. Judged on forward's graph
// with every method call inlined, by libtorch's own alias analysis; conservative where unsure.
std::string state_change(const torch::jit::Module& module) {
    auto graph = torch::jit::toGraphFunction(module.get_method("forward").function()).graph()->copy();
    torch::jit::Inline(*graph);
    torch::jit::AliasDb aliases(graph);
    std::vector<const torch::jit::Block*> blocks{graph->block()};
    while (!blocks.empty()) {
        const torch::jit::Block* block = blocks.back();
        blocks.pop_back();
        for (const torch::jit::Node* node : block->nodes()) {
            for (const torch::jit::Block* inner : node->blocks()) {
                blocks.push_back(inner);
            }
            if (node->kind() == c10::prim::SetAttr) {
                return "forward sets attribute '" + node->s(c10::attr::name) + "'";
            }
            if (node->kind() != c10::prim::GetAttr) {
                continue;
            }
            const torch::jit::Value* value = node->output();
            const c10::TypePtr& type = value->type();
            if (type->cast<c10::ClassType>() && type->expectRef<c10::ClassType>().is_module()) {
                continue; // a submodule: its own reads and writes are in the inlined graph
            }
            if (type->cast<c10::TensorType>()) {
                if (aliases.hasWriters(value)) {
                    return "forward writes into attribute '" + node->s(c10::attr::name) + "'";
                }
            } else if (!immutable(type)) {
                return "forward reads attribute '" + node->s(c10::attr::name) + "' of mutable type " +
                       type->str();
            }
        }
    }
    return "";
}

} // namespace

// A second handle on a loaded CPU TorchScript module (see torchlight_engine.h): the module is shared,
// so its weights are in memory once however many instances run it.
int32_t tl_model_share(const tl_model* model, tl_model** shared) {
    return guarded("sharing a model", [&]() -> int32_t {
        if (model == nullptr || shared == nullptr) {
            return invalid("tl_model_share: model or shared is NULL");
        }
        *shared = nullptr;
        if (model->format != TL_TORCHSCRIPT || !model->module) {
            return invalid("only a TorchScript model can be shared; an AOTInductor package is loaded per instance");
        }
        if (model->as_saved || !model->device.is_cpu()) {
            return invalid("only a model on the CPU can be shared; one on " + model->device.str() +
                           " or loaded as saved is loaded per instance");
        }
        std::string why = state_change(*model->module);
        if (!why.empty()) {
            return invalid("the module cannot be run by several threads at once: " + why);
        }
        auto copy = std::make_unique<tl_model>();
        copy->format = model->format;
        copy->device = model->device;
        copy->as_saved = model->as_saved;
        copy->input_cast = model->input_cast;
        copy->module = *model->module; // a handle: the same module object and tensors
        *shared = copy.release();
        return TL_OK;
    });
}

int32_t tl_model_stream(const tl_model* model, int64_t* id) {
    if (model == nullptr || id == nullptr) {
        return guarded("", [] { return invalid("tl_model_stream: model or id is NULL"); });
    }
    *id = -1;
#ifdef TL_WITH_CUDA
    if (model->cuda && model->cuda->stream) {
        *id = static_cast<int64_t>(model->cuda->slot);
    }
#endif
    return TL_OK;
}

const char* tl_model_notice(const tl_model* model) {
    return model == nullptr ? "" : model->notice.c_str();
}

// Inputs are read in place (torch::from_blob, no copy) on the CPU and as saved, or copied to the
// model's device (through pinned staging with pinned_buffers).
int32_t tl_model_run(tl_model* model, const tl_tensor* inputs, int32_t n_inputs, const int32_t* float_outputs,
                     int32_t n_float_outputs, tl_outputs** outputs) {
    std::string doing = "tl_model_run";
    GateTurn turn; // held until after after_failure, which may empty the cache or read the stream
    int32_t status = guarded(doing, [&] {
        if (model != nullptr && (model->as_saved || !model->device.is_cpu())) {
            turn = capture_gate().share();
        }
        return run_model(model, inputs, n_inputs, float_outputs, n_float_outputs, outputs, turn, doing);
    });
    return status == TL_OK ? status : after_failure(model, status);
}

// Returns -1 (and sets the message) for a NULL handle.
int32_t tl_outputs_count(const tl_outputs* outputs) {
    if (outputs == nullptr) {
        guarded("", [] { return invalid("tl_outputs_count: outputs is NULL"); });
        return -1;
    }
    return static_cast<int32_t>(outputs->items.size());
}

// Any of the result pointers may be NULL when the caller does not need that field.
int32_t tl_output(const tl_outputs* outputs, int32_t i, const char** name, int32_t* dtype, int32_t* ndim,
                  const int64_t** shape, const void** data, int64_t* nbytes) {
    if (outputs == nullptr) {
        return guarded("", [] { return invalid("tl_output: outputs is NULL"); });
    }
    if (i < 0 || static_cast<size_t>(i) >= outputs->items.size()) {
        return guarded("", [&] {
            return invalid("tl_output: index " + std::to_string(i) + " is out of range (" +
                           std::to_string(outputs->items.size()) + " outputs)");
        });
    }
    const tl_outputs::Output& o = outputs->items[static_cast<size_t>(i)];
    if (name != nullptr) {
        *name = o.named ? o.name.c_str() : nullptr;
    }
    if (dtype != nullptr) {
        *dtype = o.dtype;
    }
    if (ndim != nullptr) {
        *ndim = static_cast<int32_t>(o.shape.size());
    }
    if (shape != nullptr) {
        *shape = o.shape.data();
    }
    if (data != nullptr) {
        *data = o.data;
    }
    if (nbytes != nullptr) {
        *nbytes = o.nbytes;
    }
    return TL_OK;
}

// May run on any thread (a cleaner): touches no thread-local state. Pinned output memory goes back to
// libtorch's caching host allocator, which is thread-safe.
void tl_outputs_free(tl_outputs* outputs) {
    try {
        delete outputs;
    } catch (...) {
    }
}

} // extern "C"

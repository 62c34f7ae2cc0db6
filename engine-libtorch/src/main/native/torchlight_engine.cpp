// torchlight's engine: the C ABI of torchlight_engine.h over libtorch.
//
// Every extern "C" function catches everything: no exception crosses the ABI. A failing call
// returns a status and leaves its message in this thread's tl_last_error. Messages are short:
// libtorch's C++ backtraces are cut off, and a TorchScript interpreter failure is reduced to its
// error line and the innermost TorchScript frame.
//
// The tl_ functions are the library's only exported symbols (everything else is compiled with
// hidden visibility, and the link's version script exports tl_* alone).
#pragma GCC visibility push(default)
#include "torchlight_engine.h"
#pragma GCC visibility pop

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#if __has_include(<torch/csrc/inductor/aoti_package/model_package_loader.h>)
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#define TL_WITH_AOTI 1
#endif

#include <cctype>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct tl_model {
    int32_t format = TL_TORCHSCRIPT;
    c10::Device device{c10::kCPU};
    // Set when the module's floating-point parameters were converted: floating inputs are cast to it.
    std::optional<at::ScalarType> input_cast;
    std::optional<torch::jit::Module> module;
#ifdef TL_WITH_AOTI
    std::unique_ptr<torch::inductor::AOTIModelPackageLoader> package;
#endif
};

struct tl_outputs {
    struct Output {
        at::Tensor tensor; // contiguous, on the CPU
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

int32_t fail_from(const std::string& doing, std::string message, bool out_of_memory) {
    int32_t status = out_of_memory || is_out_of_memory_message(message) ? TL_OUT_OF_MEMORY : TL_ERROR;
    return fail(status, doing.empty() ? std::move(message) : doing + ": " + message);
}

// Runs body, turning every exception into a status and a message prefixed with what was being
// done (doing may change while body runs). Nothing escapes, not even a failure to build the message.
template <class Body>
int32_t guarded(const std::string& doing, Body&& body) noexcept {
    try {
        try {
            return body();
        } catch (const c10::OutOfMemoryError& e) {
            return fail_from(doing, clean_message(e.what_without_backtrace()), true);
        } catch (const c10::Error& e) {
            return fail_from(doing, clean_message(e.what_without_backtrace()), false);
        } catch (const std::bad_alloc&) {
            return fail_from(doing, "out of host memory (std::bad_alloc)", true);
        } catch (const std::exception& e) {
            return fail_from(doing, clean_message(e.what()), false);
        } catch (...) {
            return fail_from(doing, "unknown exception", false);
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

bool has_cuda_build() {
#ifdef TL_WITH_CUDA
    return true;
#else
    return false;
#endif
}

// Collects the tensors of a forward's result in order, with their keys when it returned a dict.
void flatten_result(const c10::IValue& result, std::vector<std::pair<std::optional<std::string>, at::Tensor>>& out) {
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
    if (o.device_type != TL_CPU && o.device_type != TL_CUDA) {
        return invalid("unknown device type " + std::to_string(o.device_type));
    }
    if (o.device_type == TL_CPU && o.device_index != -1) {
        return invalid("device_index must be -1 on the CPU, got " + std::to_string(o.device_index));
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
    if (o.format == TL_AOTI && o.precision != TL_FP32) {
        return invalid("precision conversion applies to TorchScript only; an AOTInductor package runs in the "
                       "precision it was compiled with");
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
    if (o.format == TL_TORCHSCRIPT) {
        torch::NoGradGuard no_grad;
        torch::jit::Module module = torch::jit::load(file, device);
        module.eval();
        if (o.precision != TL_FP32) {
            at::ScalarType type = o.precision == TL_FP16 ? at::kHalf : at::kBFloat16;
            convert_precision(module, type);
            m->input_cast = type;
        }
        if (o.optimize == 1) {
            try {
                torch::jit::Module frozen = torch::jit::freeze(module);
                module = torch::jit::optimize_for_inference(frozen);
            } catch (...) {
                // Kept unfrozen (see tl_model_load). freeze works on a clone: module is untouched.
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
    *model = m.release();
    return TL_OK;
}

int32_t run_model(tl_model* model, const tl_tensor* inputs, int32_t n_inputs, const int32_t* float_outputs,
                  int32_t n_float_outputs, tl_outputs** outputs, std::string& doing) {
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
    const bool on_cpu = model->device.is_cpu();
    std::vector<at::Tensor> in;
    in.reserve(static_cast<size_t>(n_inputs));
    for (int32_t i = 0; i < n_inputs; ++i) {
        const tl_tensor& t = inputs[i];
        auto options = at::TensorOptions().dtype(*to_scalar_type(t.dtype)).device(c10::kCPU);
        std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
        at::Tensor x = t.nbytes == 0 ? at::empty(shape, options)
                                     : torch::from_blob(const_cast<void*>(t.data), shape, options);
        if (!on_cpu) {
            doing = "copying input " + std::to_string(i) + " to " + device_name(model->device);
            x = x.to(model->device);
        }
        if (model->input_cast && x.is_floating_point() && x.scalar_type() != *model->input_cast) {
            x = x.to(*model->input_cast);
        }
        in.push_back(std::move(x));
    }

    doing = "running the model's forward";
    std::vector<std::pair<std::optional<std::string>, at::Tensor>> results;
    if (model->module) {
        std::vector<c10::IValue> args(in.begin(), in.end());
        c10::IValue result = model->module->forward(std::move(args));
        flatten_result(result, results);
    } else {
#ifdef TL_WITH_AOTI
        for (at::Tensor& t : model->package->run(in)) {
            results.emplace_back(std::nullopt, std::move(t));
        }
#else
        return fail(TL_ERROR, "no model");
#endif
    }

    auto out = std::make_unique<tl_outputs>();
    out->items.reserve(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
        doing = "reading output " + std::to_string(i);
        at::Tensor t = std::move(results[i].second);
        if (!t.defined()) {
            return fail(TL_ERROR, doing + ": the model returned an undefined tensor");
        }
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
        auto dtype = to_tl_dtype(t.scalar_type());
        if (!dtype) {
            return fail(TL_ERROR, doing + ": its datatype " + std::string(c10::toString(t.scalar_type())) +
                                      " has no torchlight datatype");
        }
        if (!t.is_cpu()) {
            t = t.to(c10::kCPU);
        }
        t = t.contiguous();
        if (on_cpu && t.nbytes() > 0) {
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
        o.dtype = *dtype;
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
    if (!on_cpu && results.empty()) {
        torch::cuda::synchronize(model->device.index());
    }
    *outputs = out.release();
    return TL_OK;
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
// the build linked a CUDA libtorch (CMake found its torch_cuda target). Both describe the build,
// not the machine: tl_cuda_device_count says whether devices are present.
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

// Loads a model. TorchScript: torch::jit::load onto the device, eval(), precision conversion of the
// floating-point parameters and buffers, then (optimize) torch::jit::freeze and
// optimize_for_inference. Some modules cannot be frozen (e.g. ones that mutate attributes in
// forward or call through interfaces); when freezing or optimizing fails the unfrozen module is kept
// and the load still succeeds: optimize is a best effort, not a requirement.
// AOTInductor (.pt2): torch::inductor::AOTIModelPackageLoader; the package decides the device it was
// compiled for, which must be the requested one. precision is TorchScript only (an AOTInductor
// package runs in the precision it was compiled with) and optimize is ignored for packages.
int32_t tl_model_load(const char* path, const tl_load_options* options, tl_model** model) {
    std::string doing = "tl_model_load";
    return guarded(doing, [&] { return load_model(path, options, model, doing); });
}

void tl_model_free(tl_model* model) {
    try {
        delete model;
    } catch (...) {
    }
}

// Inputs are read in place (torch::from_blob, no copy) on the CPU, or copied to the model's device.
// An output that shares memory with an input (an identity forward, a view of an input) is copied,
// so that outputs never point into the caller's input buffers.
int32_t tl_model_run(tl_model* model, const tl_tensor* inputs, int32_t n_inputs, const int32_t* float_outputs,
                     int32_t n_float_outputs, tl_outputs** outputs) {
    std::string doing = "tl_model_run";
    return guarded(doing, [&] {
        return run_model(model, inputs, n_inputs, float_outputs, n_float_outputs, outputs, doing);
    });
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

// May run on any thread (a cleaner): touches no thread-local state.
void tl_outputs_free(tl_outputs* outputs) {
    try {
        delete outputs;
    } catch (...) {
    }
}

} // extern "C"

/*
 * A stand-in for NVIDIA's libnvidia-ml with the calls torchlight's JNA binding makes, with the
 * same C signatures and struct layouts, so the binding can be tested on machines without a GPU.
 * Two devices; the second reports no power. Built with -DINIT_FAILS, initialisation fails (as
 * on a machine with the library but no driver).
 */
#include <stdio.h>

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef int *nvmlDevice_t;

static int devices[2];

int nvmlInit_v2(void) {
#ifdef INIT_FAILS
    return 9; /* NVML_ERROR_DRIVER_NOT_LOADED */
#else
    return 0;
#endif
}

int nvmlShutdown(void) { return 0; }

int nvmlDeviceGetCount_v2(unsigned int *count) {
    *count = 2;
    return 0;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (index > 1) {
        return 2; /* NVML_ERROR_INVALID_ARGUMENT */
    }
    *device = &devices[index];
    return 0;
}

static int indexOf(nvmlDevice_t device) { return (int) (device - devices); }

int nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    snprintf(name, length, "Fake GPU %d", indexOf(device));
    return 0;
}

int nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    utilization->gpu = 42 + indexOf(device);
    utilization->memory = 7;
    return 0;
}

int nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    memory->total = 80ULL << 30;
    memory->used = (unsigned long long) (indexOf(device) + 1) << 30;
    memory->free = memory->total - memory->used;
    return 0;
}

int nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *milliwatts) {
    if (indexOf(device) == 1) {
        return 3; /* NVML_ERROR_NOT_SUPPORTED */
    }
    *milliwatts = 250500;
    return 0;
}

int nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *celsius) {
    if (sensor != 0) {
        return 2;
    }
    *celsius = 60 + indexOf(device);
    return 0;
}

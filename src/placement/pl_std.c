/* pl_std.c - the standard resource classes (os-resource-classes, as of
 * Zed) and a subset of the standard traits (os-traits): names every
 * Placement knows without creating them. */
#include "pl_int.h"

#include <string.h>

const char *const plc_std_rcs[] = {
    "VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF", "NUMA_SOCKET",
    "NUMA_CORE", "NUMA_THREAD", "NUMA_MEMORY_MB", "IPV4_ADDRESS", "VGPU",
    "VGPU_DISPLAY_HEAD", "NET_BW_EGR_KILOBIT_PER_SEC", "NET_BW_IGR_KILOBIT_PER_SEC", "PCPU",
    "MEM_ENCRYPTION_CONTEXT", "FPGA", "PGPU", "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC", "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
    NULL,
};

const char *const plc_std_traits[] = {
    "COMPUTE_ACCELERATORS", "COMPUTE_ARCH_AARCH64", "COMPUTE_ARCH_X86_64",
    "COMPUTE_DEVICE_TAGGING", "COMPUTE_GRAPHICS_MODEL_VGA", "COMPUTE_GRAPHICS_MODEL_VIRTIO",
    "COMPUTE_IMAGE_TYPE_ISO", "COMPUTE_IMAGE_TYPE_QCOW2", "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
    "COMPUTE_NET_VIF_MODEL_E1000", "COMPUTE_NET_VIF_MODEL_VIRTIO", "COMPUTE_NODE",
    "COMPUTE_RESCUE_BFV", "COMPUTE_SAME_HOST_COLD_MIGRATE", "COMPUTE_SECURITY_UEFI_SECURE_BOOT",
    "COMPUTE_SOCKET_PCI_NUMA_AFFINITY", "COMPUTE_STATUS_DISABLED", "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_VOLUME_ATTACH_WITH_TAG", "COMPUTE_VOLUME_EXTEND", "COMPUTE_VOLUME_MULTI_ATTACH",
    "HW_ARCH_X86_64", "HW_CPU_HYPERTHREADING", "HW_CPU_X86_AESNI", "HW_CPU_X86_AVX",
    "HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512F", "HW_CPU_X86_BMI", "HW_CPU_X86_BMI2",
    "HW_CPU_X86_F16C", "HW_CPU_X86_FMA3", "HW_CPU_X86_MMX", "HW_CPU_X86_SSE",
    "HW_CPU_X86_SSE2", "HW_CPU_X86_SSE3", "HW_CPU_X86_SSE41", "HW_CPU_X86_SSE42",
    "HW_CPU_X86_SSSE3", "HW_CPU_X86_SVM", "HW_CPU_X86_VMX", "HW_GPU_API_VULKAN",
    "HW_NIC_SRIOV", "HW_NIC_OFFLOAD_TSO", "HW_NUMA_ROOT", "MISC_SHARES_VIA_AGGREGATE",
    "STORAGE_DISK_HDD", "STORAGE_DISK_SSD",
    NULL,
};

static bool
in(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (!strcmp(*l, s))
            return true;
    return false;
}

bool
plc__std_rc(const char *name)
{
    return in(plc_std_rcs, name);
}

bool
plc__std_trait(const char *name)
{
    return in(plc_std_traits, name);
}

bool
plc__custom_name(const char *name)
{
    size_t n = strlen(name);
    if (n <= 7 || n > 255 || strncmp(name, "CUSTOM_", 7))
        return false;
    return strspn(name + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n - 7;
}

int
plc__rc_exists(struct http_req *req, const char *rc)
{
    if (plc__std_rc(rc))
        return 0;
    return plc_db_custom_exists(req->db, req->arena, "rc", rc);
}

/*
 * A description of the AES code path OpenSSL takes on this
 * CPU. Signing, key derivation and encryption live in crypto_sign.c,
 * crypto_kdf.c and crypto_cipher.c.
 */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <stdio.h>

#include <smbcopy/smb.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define SMB_CRYPTO_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define SMB_CRYPTO_ARM64 1
#endif

#ifdef SMB_CRYPTO_X86

/*
 * The CPU features OpenSSL's AES and GHASH code dispatches on, laid out like
 * OpenSSL's capability vector: lo = CPUID.1 EDX | ECX << 32, hi = CPUID.7.0
 * EBX | ECX << 32.
 */
typedef struct x86_caps {
    uint64_t lo;
    uint64_t hi;
} x86_caps;

#define CAP_PCLMULQDQ (1ULL << (32 + 1)) /* lo: CPUID.1 ECX bit 1 */
#define CAP_AESNI (1ULL << (32 + 25))    /* lo: CPUID.1 ECX bit 25 */
#define CAP_OSXSAVE (1ULL << (32 + 27))  /* lo: CPUID.1 ECX bit 27 */
#define CAP_AVX (1ULL << (32 + 28))      /* lo: CPUID.1 ECX bit 28 */
#define CAP_AVX512F (1ULL << 16)         /* hi: CPUID.7 EBX bit 16 */
#define CAP_VAES (1ULL << (32 + 9))      /* hi: CPUID.7 ECX bit 9 */
#define CAP_VPCLMULQDQ (1ULL << (32 + 10)) /* hi: CPUID.7 ECX bit 10 */

/* XCR0: which register states the OS saves (SSE/AVX, then the AVX-512 ones). */
static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

static x86_caps detect_x86(void)
{
    x86_caps c = {0, 0};
    unsigned a, b, cx, d;
    if (__get_cpuid(1, &a, &b, &cx, &d))
        c.lo = (uint64_t)d | (uint64_t)cx << 32;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        c.hi = (uint64_t)b | (uint64_t)cx << 32;
    }
    /* Wide-register code needs the OS to save those registers. */
    uint64_t xcr = (c.lo & CAP_OSXSAVE) ? xcr0() : 0;
    if ((xcr & 0x6) != 0x6) {
        c.lo &= ~CAP_AVX;
        c.hi &= ~(CAP_VAES | CAP_VPCLMULQDQ);
    }
    if ((xcr & 0xe6) != 0xe6)
        c.hi &= ~CAP_AVX512F;
    return c;
}

/* One half of OPENSSL_ia32cap: "~mask" clears bits, a plain value replaces them. */
static uint64_t apply_cap(uint64_t detected, const char *s)
{
    bool clear = *s == '~';
    uint64_t v = strtoull(s + clear, NULL, 0);
    return clear ? detected & ~v : v;
}

/*
 * OPENSSL_ia32cap, as OpenSSL reads it at start-up (see OPENSSL_ia32cap(3)):
 * "[~]LO[:[~]HI]". LO covers CPUID.1 (AES-NI is bit 57, PCLMULQDQ bit 33),
 * HI covers CPUID.7 (VAES is bit 41, VPCLMULQDQ bit 42, AVX512F bit 16); an
 * empty LO keeps the detected value, and a missing HI part turns all of
 * CPUID.7 off. So OPENSSL_ia32cap="~0x200000200000000" forces the generic
 * AES and GHASH code.
 */
static x86_caps apply_env(x86_caps c, const char *env)
{
    if (*env != ':')
        c.lo = apply_cap(c.lo, env);
    const char *colon = strchr(env, ':');
    c.hi = colon ? apply_cap(c.hi, colon + 1) : 0;
    return c;
}

const char *smb_crypto_aes_impl(void)
{
    x86_caps c = detect_x86();
    const char *env = getenv("OPENSSL_ia32cap");
    if (env && *env)
        c = apply_env(c, env);
    if (!(c.lo & CAP_AESNI))
        return "generic C (no AES-NI)";
    if (!(c.lo & CAP_PCLMULQDQ))
        return "AES-NI (GHASH without PCLMULQDQ)";
    bool vaes = (c.hi & CAP_VAES) && (c.hi & CAP_VPCLMULQDQ);
    if (vaes && (c.hi & CAP_AVX512F))
        return "AES-NI + PCLMULQDQ (+VAES +VPCLMULQDQ +AVX512)";
    if (vaes)
        return "AES-NI + PCLMULQDQ (+VAES +VPCLMULQDQ)";
    if (c.lo & CAP_AVX)
        return "AES-NI + PCLMULQDQ (+AVX)";
    return "AES-NI + PCLMULQDQ";
}

#elif defined(SMB_CRYPTO_ARM64)

const char *smb_crypto_aes_impl(void)
{
    unsigned long hw = getauxval(AT_HWCAP);
    bool aes = hw & (1UL << 3), pmull = hw & (1UL << 4); /* HWCAP_AES, HWCAP_PMULL */
    if (aes && pmull)
        return "ARMv8 Crypto Extensions (AES + PMULL)";
    return aes ? "ARMv8 Crypto Extensions (AES, GHASH without PMULL)" : "generic C (no AES instructions)";
}

#else

const char *smb_crypto_aes_impl(void)
{
    return "generic C (no AES instruction detection on this platform)";
}

#endif

const char *smb_crypto_description(char *buf, size_t len)
{
    snprintf(buf, len, "%s via %s", smb_crypto_aes_impl(), OpenSSL_version(OPENSSL_VERSION));
    return buf;
}

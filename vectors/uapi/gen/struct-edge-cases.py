#!/usr/bin/env python3
"""Ground truth from gcc for tricky C struct/union layouts, on x86-64 (LP64) and i386 (ILP32).

Every case below is a hand-written C declaration plus a machine-readable description of its members
that maps 1:1 onto the DSL of packages/uapi/src/struct.ts (the format is documented in
vectors/uapi/README.md). The script

  1. writes one C file with a prelude of typedefs (the kernel's __u8..__u64, __be/__le, __aligned_u64
     and a few aligned typedefs) and all declarations, in order;
  2. checks the description against the C text: member names in order (parsed from the text), and
     per member a _Static_assert that the C type is the one the description names
     (__builtin_types_compatible_p, _Alignof, array extents, pointer-ness);
  3. compiles and runs it with `gcc` (x86-64) and `gcc -m32` (i386), printing sizeof, _Alignof,
     offsetof and sizeof of every member;
  4. for the real UAPI/glibc structs, compiles a second program per case that includes the real
     header and checks that the hand-written copy has the same layout as the header's type;
  5. writes vectors/uapi/struct-edge-cases.json.

Run from anywhere:  python3 vectors/uapi/gen/struct-edge-cases.py
Needs gcc and gcc-multilib (for -m32); nothing else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "struct-edge-cases.json"

ABIS = {
    # key in the JSON -> gcc flags
    "x86_64": ["-m64"],
    "i386": ["-m32"],
}

CFLAGS = ["-std=gnu11", "-O0", "-Wall", "-Wextra", "-Werror", "-Wno-error=packed-not-aligned"]

# The typedefs every declaration may use: those of include/uapi/asm-generic/int-ll64.h and
# include/uapi/linux/types.h, plus aligned typedefs for the edge cases.
PRELUDE = """\
#include <stddef.h>
typedef unsigned char __u8;
typedef __signed__ char __s8;
typedef unsigned short __u16;
typedef __signed__ short __s16;
typedef unsigned int __u32;
typedef __signed__ int __s32;
typedef unsigned long long __u64;
typedef __signed__ long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u64 __be64;
typedef __u16 __le16;
typedef __u32 __le32;
typedef __u64 __le64;
typedef __PTRDIFF_TYPE__ __kernel_ssize_t;
typedef __u64 __attribute__((aligned(8))) __aligned_u64;
typedef __u32 __attribute__((aligned(8))) u32_aligned8;
typedef __u16 __attribute__((aligned(4))) u16_aligned4;
/* arch/x86/include/asm/compat.h: a typedef may LOWER the alignment, too */
typedef __u64 __attribute__((aligned(4))) compat_u64;
"""

# C spelling of each scalar of the description (the DSL's exported names).
SCALARS = {
    "u8": "__u8",
    "u16": "__u16",
    "u32": "__u32",
    "u64": "__u64",
    "s8": "__s8",
    "s16": "__s16",
    "s32": "__s32",
    "s64": "__s64",
    "be16": "__be16",
    "be32": "__be32",
    "be64": "__be64",
    "le16": "__le16",
    "le32": "__le32",
    "le64": "__le64",
    "long": "long",
    "ulong": "unsigned long",
    "size_t": "size_t",
    "ssize_t": "__kernel_ssize_t",
    "ptr": None,  # any object pointer: void *, struct iovec *, ...
    "aligned_u64": "__aligned_u64",
}


# ---------------------------------------------------------------------------------------------------
# Description helpers


def arr(t, n):
    return {"array": t, "n": n}


def ch(n):
    return {"char": n}


def by(n):
    return {"bytes": n}


def al(t, n):
    return {"aligned": t, "n": n}


def st(name):
    return {"struct": name}


def un(name):
    return {"union": name}


CASES: list[dict] = []


def case(kind, name, members, decl, *, packed=False, aligned=None, note="", ref=None):
    entry = {
        "name": name,
        "kind": kind,
        "packed": packed,
        "aligned": aligned,
        "members": [{"name": m, "type": t} for m, t in members],
        "decl": decl.strip("\n"),
        "note": note,
    }
    if ref is not None:
        entry["ref"] = ref
    CASES.append(entry)


def S(name, members, decl, **kw):
    case("struct", name, members, decl, **kw)


def U(name, members, decl, **kw):
    case("union", name, members, decl, **kw)


# ---------------------------------------------------------------------------------------------------
# Padding between scalars

S("pad_u8_u16", [("a", "u8"), ("b", "u16")], """
struct pad_u8_u16 { __u8 a; __u16 b; };
""", note="1 byte of padding before b")

S("pad_u8_u32_u8", [("a", "u8"), ("b", "u32"), ("c", "u8")], """
struct pad_u8_u32_u8 { __u8 a; __u32 b; __u8 c; };
""", note="3 bytes of padding before b, 3 bytes of trailing padding")

S("pad_u8_u64", [("a", "u8"), ("b", "u64")], """
struct pad_u8_u64 { __u8 a; __u64 b; };
""", note="b at 8 on x86-64, at 4 on i386 (u64 aligns to 4 inside structs)")

S("pad_u16_u64_u8", [("a", "u16"), ("b", "u64"), ("c", "u8")], """
struct pad_u16_u64_u8 { __u16 a; __u64 b; __u8 c; };
""", note="24 bytes on x86-64, 16 on i386: both inner and trailing padding differ")

S("u32_u64", [("a", "u32"), ("b", "u64")], """
struct u32_u64 { __u32 a; __u64 b; };
""", note="the classic compat case: 16 bytes on x86-64, 12 on i386")

S("u64_u32", [("a", "u64"), ("b", "u32")], """
struct u64_u32 { __u64 a; __u32 b; };
""", note="trailing padding only on x86-64: 16 vs 12")

S("signed_mix", [("a", "s8"), ("b", "s16"), ("c", "s8"), ("d", "s32"), ("e", "s8"), ("f", "s64"), ("g", "s16")], """
struct signed_mix { __s8 a; __s16 b; __s8 c; __s32 d; __s8 e; __s64 f; __s16 g; };
""")

S("only_char", [("c", "s8")], """
struct only_char { char c; };
""", note="plain char is described as s8 (char is signed on x86); size 1, align 1")

S("char_aligned_u64", [("c", "s8"), ("x", "aligned_u64")], """
struct char_aligned_u64 { char c; __aligned_u64 x; };
""", note="__aligned_u64 keeps x at 8 and the struct 8-aligned on i386 too")

S("u32_aligned_u64", [("a", "u32"), ("b", "aligned_u64"), ("c", "u32")], """
struct u32_aligned_u64 { __u32 a; __aligned_u64 b; __u32 c; };
""", note="24 bytes on both ABIs; with a plain __u64 it would be 16 on i386")

S("long_ulong", [("a", "u8"), ("b", "long"), ("c", "ulong"), ("d", "u16")], """
struct long_ulong { __u8 a; long b; unsigned long c; __u16 d; };
""")

S("ptr_size_t", [("a", "u8"), ("p", "ptr"), ("n", "size_t"), ("x", "u32")], """
struct ptr_size_t { __u8 a; void *p; size_t n; __u32 x; };
""")

S("u16_ssize_t_u16", [("a", "u16"), ("n", "ssize_t"), ("b", "u16")], """
struct u16_ssize_t_u16 { __u16 a; __kernel_ssize_t n; __u16 b; };
""")

S("be_le_mix", [("a", "u8"), ("b", "be16"), ("c", "le32"), ("d", "be64"), ("e", "le16")], """
struct be_le_mix { __u8 a; __be16 b; __le32 c; __be64 d; __le16 e; };
""", note="fixed-endian types lay out like their native counterparts")

# ---------------------------------------------------------------------------------------------------
# Nesting and arrays

S("nest_outer", [("x", "u8"), ("in", st("pad_u8_u32_u8")), ("y", "u8")], """
struct nest_outer { __u8 x; struct pad_u8_u32_u8 in; __u8 y; };
""", note="a nested struct is placed at its own alignment and keeps its trailing padding")

S("inner_u64", [("v", "u64")], """
struct inner_u64 { __u64 v; };
""", note="a struct of one u64: align 8 on x86-64, 4 on i386")

S("nest_u64", [("x", "u8"), ("in", st("inner_u64")), ("y", "u8")], """
struct nest_u64 { __u8 x; struct inner_u64 in; __u8 y; };
""")

S("array_of_structs", [("n", "u8"), ("items", arr(st("pad_u8_u32_u8"), 3)), ("tail", "u16")], """
struct array_of_structs { __u8 n; struct pad_u8_u32_u8 items[3]; __u16 tail; };
""")

S("array_of_u64_structs", [("n", "u32"), ("items", arr(st("u64_u32"), 2))], """
struct array_of_u64_structs { __u32 n; struct u64_u32 items[2]; };
""", note="element stride 16 on x86-64, 12 on i386")

S("matrix", [("tag", "u8"), ("m", arr(arr("u16", 3), 2)), ("after", "u32")], """
struct matrix { __u8 tag; __u16 m[2][3]; __u32 after; };
""", note="a two-dimensional array is an array of arrays")

S("char_arrays", [("name", ch(5)), ("x", "u32"), ("tail", ch(3))], """
struct char_arrays { char name[5]; __u32 x; char tail[3]; };
""")

S("bytes_then_u64", [("raw", by(7)), ("v", "u64")], """
struct bytes_then_u64 { __u8 raw[7]; __u64 v; };
""", note="raw is described as bytes(7); v at 8 on x86-64, 8 on i386 too (7 rounded up to 4 is 8)")

S("deep", [("a", arr(st("nest_u64"), 2)), ("b", st("pad_u8_u16")), ("c", "long")], """
struct deep { struct nest_u64 a[2]; struct pad_u8_u16 b; long c; };
""")

# ---------------------------------------------------------------------------------------------------
# Unions

U("union_mixed", [("a", "u8"), ("b", "u16"), ("c", "u32"), ("s", ch(5))], """
union union_mixed { __u8 a; __u16 b; __u32 c; char s[5]; };
""", note="size of the largest member (5) rounded up to the largest alignment (4)")

U("union_u64_arr", [("v", "u64"), ("w", arr("u32", 3))], """
union union_u64_arr { __u64 v; __u32 w[3]; };
""", note="16/8 on x86-64, 12/4 on i386")

U("union_ptr_long", [("p", "ptr"), ("l", "long"), ("b", by(3))], """
union union_ptr_long { void *p; long l; __u8 b[3]; };
""")

S("struct_with_union", [("tag", "u8"), ("u", un("union_u64_arr")), ("after", "u8")], """
struct struct_with_union { __u8 tag; union union_u64_arr u; __u8 after; };
""")

U("union_with_struct", [("s", st("pad_u8_u32_u8")), ("raw", "u64"), ("h", arr("u16", 5))], """
union union_with_struct { struct pad_u8_u32_u8 s; __u64 raw; __u16 h[5]; };
""")

U("packed_union", [("a", "u32"), ("b", by(5))], """
union __attribute__((packed)) packed_union { __u32 a; __u8 b[5]; };
""", packed=True, note="5 bytes, align 1")

U("union_aligned8", [("a", "u32"), ("b", by(5))], """
union __attribute__((aligned(8))) union_aligned8 { __u32 a; __u8 b[5]; };
""", aligned=8)

# ---------------------------------------------------------------------------------------------------
# packed and aligned(N) on the aggregate

S("packed_basic", [("a", "u8"), ("b", "u32"), ("c", "u16"), ("d", "u64")], """
struct __attribute__((packed)) packed_basic { __u8 a; __u32 b; __u16 c; __u64 d; };
""", packed=True)

S("packed_in_normal", [("a", "u8"), ("p", st("packed_basic")), ("b", "u32")], """
struct packed_in_normal { __u8 a; struct packed_basic p; __u32 b; };
""", note="a packed struct member has alignment 1 inside an ordinary struct")

S("normal_in_packed", [("a", "u8"), ("s", st("u32_u64")), ("b", "u8")], """
struct __attribute__((packed)) normal_in_packed { __u8 a; struct u32_u64 s; __u8 b; };
""", packed=True, note="packed places the member struct at 1; its own inner layout is unchanged")

S("packed_aligned4", [("a", "u8"), ("b", "u32")], """
struct __attribute__((packed, aligned(4))) packed_aligned4 { __u8 a; __u32 b; };
""", packed=True, aligned=4, note="b at 1, size 5 rounded up to 8, align 4")

S("packed_aligned2_u64", [("a", "u64"), ("b", "u8")], """
struct __attribute__((packed, aligned(2))) packed_aligned2_u64 { __u64 a; __u8 b; };
""", packed=True, aligned=2, note="packed + aligned(N) can LOWER the alignment below the members'")

S("aligned16", [("a", "u8")], """
struct __attribute__((aligned(16))) aligned16 { __u8 a; };
""", aligned=16)

S("aligned8_u32_u64", [("a", "u32"), ("b", "u64")], """
struct __attribute__((aligned(8))) aligned8_u32_u64 { __u32 a; __u64 b; };
""", aligned=8, note="on i386 aligned(8) raises the struct's alignment, but b stays at 4: 16 bytes with 4 of tail")

S("aligned2_ignored", [("a", "u32")], """
struct __attribute__((aligned(2))) aligned2_ignored { __u32 a; };
""", aligned=2, note="aligned(N) on a struct without packed can only raise the alignment")

S("array_of_aligned16", [("a", "u8"), ("arr", arr(st("aligned16"), 2)), ("b", "u8")], """
struct array_of_aligned16 { __u8 a; struct aligned16 arr[2]; __u8 b; };
""")

S("packed_with_aligned16", [("a", "u8"), ("b", st("aligned16"))], """
struct __attribute__((packed)) packed_with_aligned16 { __u8 a; struct aligned16 b; };
""", packed=True,
  note="packed wins over the member type's aligned(16): b at 1, size 17, align 1 (gcc warns -Wpacked-not-aligned)")

S("packed_aligned_u64_member", [("a", "u8"), ("b", "aligned_u64")], """
struct __attribute__((packed)) packed_aligned_u64_member { __u8 a; __aligned_u64 b; };
""", packed=True, note="an aligned typedef does not survive packed: b at 1, size 9")

S("packed_aligned8_with_aligned_u64", [("a", "u32"), ("b", "aligned_u64"), ("c", "u8")], """
struct __attribute__((packed, aligned(8))) packed_aligned8_with_aligned_u64 { __u32 a; __aligned_u64 b; __u8 c; };
""", packed=True, aligned=8, note="b at 4, c at 12, size 13 rounded up to 16")

# ---------------------------------------------------------------------------------------------------
# Aligned typedefs (the attribute on a typedef sets the type's alignment; the size stays)

S("typedef_u32_aligned8", [("a", al("u32", 8)), ("b", "u8")], """
struct typedef_u32_aligned8 { u32_aligned8 a; __u8 b; };
""", note="sizeof(u32_aligned8) is 4 while its alignment is 8, so b sits at 4; the struct is 8/8")

S("typedef_compat_u64", [("a", "u32"), ("b", al("u64", 4))], """
struct typedef_compat_u64 { __u32 a; compat_u64 b; };
""", note="compat_u64 (arch/x86 compat.h) lowers u64 to align 4: 12 bytes on x86-64 too")

U("union_u16_aligned4", [("h", al("u16", 4)), ("b", by(3))], """
union union_u16_aligned4 { u16_aligned4 h; __u8 b[3]; };
""", note="h is 2 bytes with alignment 4; the union is 4/4")

S("typedef_struct_aligned16", [("a", "u8"), ("b", al(st("inner_u64"), 16))], """
typedef struct inner_u64 __attribute__((aligned(16))) inner_u64_aligned16;
struct typedef_struct_aligned16 { __u8 a; inner_u64_aligned16 b; };
""", note="b at 16 and 8 bytes long (not 16); struct 32/16")

# ---------------------------------------------------------------------------------------------------
# Zero-sized things (GNU C)

S("zero_len_u64", [("a", "u32"), ("x", arr("u64", 0))], """
struct zero_len_u64 { __u32 a; __u64 x[0]; };
""", note="a zero-length array adds no size but its alignment: x at 8 (x86-64) / 4 (i386)")

S("empty", [], """
struct empty { };
""", note="GNU C: an empty struct has size 0 (C++ would say 1)")

S("with_empty", [("a", "u8"), ("e", st("empty")), ("b", "u8")], """
struct with_empty { __u8 a; struct empty e; __u8 b; };
""", note="the empty member occupies 0 bytes at 1; b at 1 too")

# ---------------------------------------------------------------------------------------------------
# Real structs (glibc and Linux 6.1 UAPI), each checked against the real header

S("timespec", [("tv_sec", "long"), ("tv_nsec", "long")], """
struct timespec { long tv_sec; long tv_nsec; };
""", note="glibc without _TIME_BITS=64: 16 bytes on x86-64, 8 on i386",
  ref={"header": "time.h", "type": "struct timespec"})

S("__kernel_timespec", [("tv_sec", "s64"), ("tv_nsec", "s64")], """
struct __kernel_timespec { __s64 tv_sec; __s64 tv_nsec; };
""", note="linux/time_types.h (tv_nsec is long long there): 16 bytes on both, align 8 vs 4",
  ref={"header": "linux/time_types.h", "type": "struct __kernel_timespec"})

S("timeval", [("tv_sec", "long"), ("tv_usec", "long")], """
struct timeval { long tv_sec; long tv_usec; };
""", note="glibc without _TIME_BITS=64", ref={"header": "sys/time.h", "type": "struct timeval"})

S("iovec", [("iov_base", "ptr"), ("iov_len", "size_t")], """
struct iovec { void *iov_base; size_t iov_len; };
""", ref={"header": "sys/uio.h", "type": "struct iovec"})

S("msghdr", [("msg_name", "ptr"), ("msg_namelen", "u32"), ("msg_iov", "ptr"), ("msg_iovlen", "size_t"),
             ("msg_control", "ptr"), ("msg_controllen", "size_t"), ("msg_flags", "s32")], """
struct msghdr {
  void *msg_name;
  __u32 msg_namelen;
  struct iovec *msg_iov;
  size_t msg_iovlen;
  void *msg_control;
  size_t msg_controllen;
  __s32 msg_flags;
};
""", note="as glibc declares it (socklen_t msg_namelen, int msg_flags): 56 bytes on x86-64, 28 on i386",
  ref={"header": "sys/socket.h", "type": "struct msghdr"})

S("cmsghdr", [("cmsg_len", "size_t"), ("cmsg_level", "s32"), ("cmsg_type", "s32"), ("__cmsg_data", by(0))], """
struct cmsghdr {
  size_t cmsg_len;
  __s32 cmsg_level;
  __s32 cmsg_type;
  __u8 __cmsg_data[0];
};
""", note="glibc; __cmsg_data is a flexible array member there (written [0] here to take its sizeof)",
  ref={"header": "sys/socket.h", "type": "struct cmsghdr", "flex": ["__cmsg_data"]})

S("sockaddr_nl", [("nl_family", "u16"), ("nl_pad", "u16"), ("nl_pid", "u32"), ("nl_groups", "u32")], """
struct sockaddr_nl { __u16 nl_family; __u16 nl_pad; __u32 nl_pid; __u32 nl_groups; };
""", ref={"header": "linux/netlink.h", "type": "struct sockaddr_nl"})

S("nlmsghdr", [("nlmsg_len", "u32"), ("nlmsg_type", "u16"), ("nlmsg_flags", "u16"), ("nlmsg_seq", "u32"),
               ("nlmsg_pid", "u32")], """
struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid; };
""", ref={"header": "linux/netlink.h", "type": "struct nlmsghdr"})

S("nlmsgerr", [("error", "s32"), ("msg", st("nlmsghdr"))], """
struct nlmsgerr { __s32 error; struct nlmsghdr msg; };
""", ref={"header": "linux/netlink.h", "type": "struct nlmsgerr"})

S("epoll_event", [("events", "u32"), ("data", "u64")], """
#ifdef __x86_64__
#define EPOLL_PACKED __attribute__((packed))
#else
#define EPOLL_PACKED
#endif
struct epoll_event { __u32 events; __u64 data; } EPOLL_PACKED;
""", packed={"x86_64": True, "i386": False},
  note="linux/eventpoll.h: packed on x86-64 only, so that it matches i386's 12 bytes; "
       "x86-64 ends up with align 1 and i386 with align 4",
  ref={"header": "linux/eventpoll.h", "type": "struct epoll_event"})

U("epoll_data", [("ptr", "ptr"), ("fd", "s32"), ("u32", "u32"), ("u64", "u64")], """
union epoll_data { void *ptr; __s32 fd; __u32 u32; __u64 u64; };
""", note="glibc's epoll_data_t", ref={"header": "sys/epoll.h", "type": "union epoll_data"})

S("glibc_epoll_event", [("events", "u32"), ("data", un("epoll_data"))], """
struct __attribute__((packed)) glibc_epoll_event { __u32 events; union epoll_data data; };
""", packed=True,
  note="glibc's struct epoll_event: its x86 bits/epoll.h packs it for i386 as well, "
       "so on i386 glibc says align 1 where the kernel header says align 4 (same offsets and size)",
  ref={"header": "sys/epoll.h", "type": "struct epoll_event"})

S("flock", [("l_type", "s16"), ("l_whence", "s16"), ("l_start", "long"), ("l_len", "long"), ("l_pid", "s32")], """
struct flock { __s16 l_type; __s16 l_whence; long l_start; long l_len; __s32 l_pid; };
""", note="asm-generic/fcntl.h (short, __kernel_off_t = long, __kernel_pid_t = int): 32 bytes vs 16",
  ref={"header": "linux/fcntl.h", "type": "struct flock"})

S("flock64", [("l_type", "s16"), ("l_whence", "s16"), ("l_start", "s64"), ("l_len", "s64"), ("l_pid", "s32")], """
struct flock64 { __s16 l_type; __s16 l_whence; __s64 l_start; __s64 l_len; __s32 l_pid; };
""", note="asm-generic/fcntl.h (__kernel_loff_t = long long): 32 bytes vs 24, l_start at 8 vs 4",
  ref={"header": "linux/fcntl.h", "type": "struct flock64"})

S("input_event", [("time", st("timeval")), ("type", "u16"), ("code", "u16"), ("value", "s32")], """
struct input_event { struct timeval time; __u16 type; __u16 code; __s32 value; };
""", note="linux/input.h with glibc's struct timeval: 24 bytes vs 16",
  ref={"header": "linux/input.h", "type": "struct input_event"})

S("sock_filter", [("code", "u16"), ("jt", "u8"), ("jf", "u8"), ("k", "u32")], """
struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; };
""", ref={"header": "linux/filter.h", "type": "struct sock_filter"})

S("sock_fprog", [("len", "u16"), ("filter", "ptr")], """
struct sock_fprog { __u16 len; struct sock_filter *filter; };
""", note="linux/filter.h (unsigned short len): 16 bytes vs 8",
  ref={"header": "linux/filter.h", "type": "struct sock_fprog"})

S("usbdevfs_ctrltransfer", [("bRequestType", "u8"), ("bRequest", "u8"), ("wValue", "u16"), ("wIndex", "u16"),
                            ("wLength", "u16"), ("timeout", "u32"), ("data", "ptr")], """
struct usbdevfs_ctrltransfer {
  __u8 bRequestType;
  __u8 bRequest;
  __u16 wValue;
  __u16 wIndex;
  __u16 wLength;
  __u32 timeout;
  void *data;
};
""", note="linux/usbdevice_fs.h: 24 bytes vs 16 (hence USBDEVFS_CONTROL32)",
  ref={"header": "linux/usbdevice_fs.h", "type": "struct usbdevfs_ctrltransfer"})

S("kcov_remote_arg", [("trace_mode", "u32"), ("area_size", "u32"), ("num_handles", "u32"),
                      ("common_handle", "aligned_u64"), ("handles", arr("aligned_u64", 0))], """
struct kcov_remote_arg {
  __u32 trace_mode;
  __u32 area_size;
  __u32 num_handles;
  __aligned_u64 common_handle;
  __aligned_u64 handles[0];
};
""", note="linux/kcov.h (handles[] is a flexible array there): __aligned_u64 gives 24/8 on both ABIs",
  ref={"header": "linux/kcov.h", "type": "struct kcov_remote_arg", "flex": ["handles"]})

S("rseq_cs", [("version", "u32"), ("flags", "u32"), ("start_ip", "u64"), ("post_commit_offset", "u64"),
              ("abort_ip", "u64")], """
struct rseq_cs {
  __u32 version;
  __u32 flags;
  __u64 start_ip;
  __u64 post_commit_offset;
  __u64 abort_ip;
} __attribute__((aligned(4 * sizeof(__u64))));
""", aligned=32, note="linux/rseq.h: aligned(32) on the struct", ref={"header": "linux/rseq.h", "type": "struct rseq_cs"})

S("rseq", [("cpu_id_start", "u32"), ("cpu_id", "u32"), ("rseq_cs", "u64"), ("flags", "u32")], """
struct rseq {
  __u32 cpu_id_start;
  __u32 cpu_id;
  __u64 rseq_cs;
  __u32 flags;
} __attribute__((aligned(4 * sizeof(__u64))));
""", aligned=32, note="linux/rseq.h (6.1): 20 bytes of members, 32/32", ref={"header": "linux/rseq.h", "type": "struct rseq"})

S("in_addr", [("s_addr", "be32")], """
struct in_addr { __be32 s_addr; };
""", ref={"header": "linux/in.h", "type": "struct in_addr"})

S("sockaddr_in", [("sin_family", "u16"), ("sin_port", "be16"), ("sin_addr", st("in_addr")), ("__pad", by(8))], """
struct sockaddr_in { __u16 sin_family; __be16 sin_port; struct in_addr sin_addr; __u8 __pad[8]; };
""", note="linux/in.h", ref={"header": "linux/in.h", "type": "struct sockaddr_in"})


# ---------------------------------------------------------------------------------------------------
# Consistency of description and C text


def tag(kind: str, name: str) -> str:
    return f"{kind} {name}"


def resolve(attr, abi):
    """A packed/aligned attribute may be one value or a per-ABI object."""
    return attr[abi] if isinstance(attr, dict) else attr


def c_member_names(decl: str, kind: str, name: str) -> list[str]:
    """Member names parsed from the C text of `kind name { ... }` (simple declarations only)."""
    text = re.sub(r"/\*.*?\*/", "", decl, flags=re.S)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    m = re.search(rf"\b{kind}\b(?:\s+__attribute__\s*\(\(.*?\)\))?\s+{re.escape(name)}\s*\{{(.*?)\}}", text, re.S)
    if m is None:
        raise SystemExit(f"{name}: cannot find '{kind} {name} {{' in its decl")
    names = []
    for part in m.group(1).split(";"):
        part = part.strip()
        if not part:
            continue
        part = re.sub(r"\[[^\]]*\]", "", part)  # drop array extents
        ident = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", part)
        names.append(ident[-1])
    return names


def type_asserts(expr: str, t, where: str) -> list[str]:
    """_Static_asserts that the C expression `expr` has the type the description names."""
    out = []

    def sa(cond: str, what: str) -> None:
        out.append(f'_Static_assert({cond}, "{where}: {what}");')

    if isinstance(t, str):
        if t not in SCALARS:
            raise SystemExit(f"{where}: unknown scalar {t!r}")
        if t == "ptr":
            sa(f"__builtin_classify_type({expr}) == 5", "not a pointer")
            sa(f"__builtin_types_compatible_p(__typeof__({expr}), __typeof__(({expr}) + 0))", "an array, not a pointer")
            sa(f"sizeof({expr}) == sizeof(void *)", "not pointer-sized")
            sa(f"_Alignof(__typeof__({expr})) == _Alignof(void *)", "alignment of a pointer expected")
            return out
        spell = SCALARS[t]
        compat = f"__builtin_types_compatible_p(__typeof__({expr}), {spell})"
        if t == "s8":
            compat = f"({compat} || __builtin_types_compatible_p(__typeof__({expr}), char))"
        sa(compat, f"not {spell}")
        sa(f"_Alignof(__typeof__({expr})) == _Alignof({spell})", f"alignment differs from {spell}")
        return out
    if "array" in t or "bytes" in t or "char" in t:
        if "array" in t:
            elem, n = t["array"], t["n"]
        elif "bytes" in t:
            elem, n = "u8", t["bytes"]
        else:
            elem, n = None, t["char"]
        sa(f"!__builtin_types_compatible_p(__typeof__({expr}), __typeof__(&({expr})[0]))", "not an array")
        sa(f"sizeof({expr}) == {n} * sizeof(({expr})[0])", f"not {n} elements")
        if elem is None:
            sa(f"__builtin_types_compatible_p(__typeof__(({expr})[0]), char)", "not a char array")
        else:
            out += type_asserts(f"({expr})[0]", elem, where)
        return out
    if "struct" in t or "union" in t:
        kind = "struct" if "struct" in t else "union"
        spell = tag(kind, t[kind])
        sa(f"__builtin_types_compatible_p(__typeof__({expr}), {spell})", f"not {spell}")
        sa(f"_Alignof(__typeof__({expr})) == _Alignof({spell})", f"alignment differs from {spell}")
        return out
    if "aligned" in t:
        base = t["aligned"]
        # The base type must match; the alignment must be exactly n (a typedef attribute sets it).
        inner = [a for a in type_asserts(expr, base, where) if "alignment" not in a]
        out += inner
        sa(f"_Alignof(__typeof__({expr})) == {t['n']}", f"alignment is not {t['n']}")
        return out
    raise SystemExit(f"{where}: bad type description {t!r}")


def check_description(c: dict, declared: set[str]) -> None:
    names = [m["name"] for m in c["members"]]
    parsed = c_member_names(c["decl"], c["kind"], c["name"])
    if names != parsed:
        raise SystemExit(f"{c['name']}: description members {names} != C members {parsed}")
    if len(set(names)) != len(names):
        raise SystemExit(f"{c['name']}: duplicate member")

    def refs(t):
        if isinstance(t, str):
            return
        for k in ("struct", "union"):
            if k in t and tag(k, t[k]) not in declared:
                raise SystemExit(f"{c['name']}: {k} {t[k]} used before it is declared")
        for k in ("array", "aligned"):
            if k in t:
                refs(t[k])

    for m in c["members"]:
        refs(m["type"])
    for key in ("packed", "aligned"):
        v = c[key]
        if isinstance(v, dict) and set(v) != set(ABIS):
            raise SystemExit(f"{c['name']}: per-ABI {key} must name exactly {sorted(ABIS)}")


# ---------------------------------------------------------------------------------------------------
# C generation, compilation, running


def printer(ctype: str, label: str, member_names: list[str], flex: tuple[str, ...] = ()) -> list[str]:
    lines = [f'  printf("S %s %zu %zu\\n", "{label}", sizeof({ctype}), _Alignof({ctype}));']
    for m in member_names:
        size = "(size_t)0" if m in flex else f"sizeof((({ctype} *)0)->{m})"
        lines.append(
            f'  printf("F %s %s %zu %zu\\n", "{label}", "{m}", offsetof({ctype}, {m}), {size});'
        )
    return lines


def main_program() -> str:
    parts = [PRELUDE, "int printf(const char *, ...);", ""]
    for c in CASES:
        parts.append(f"/* ---- {c['name']} ---- */")
        parts.append(c["decl"])
        ctype = tag(c["kind"], c["name"])
        for m in c["members"]:
            parts += type_asserts(f"(({ctype} *)0)->{m['name']}", m["type"], f"{c['name']}.{m['name']}")
        parts.append("")
    body = [
        "int main(void) {",
        '  printf("A sizeof_long %zu\\n", sizeof(long));',
        '  printf("A sizeof_ptr %zu\\n", sizeof(void *));',
        '  printf("A sizeof_size_t %zu\\n", sizeof(size_t));',
        '  printf("A alignof_u64 %zu\\n", _Alignof(__u64));',
        '  printf("A gnu_alignof_u64 %zu\\n", __alignof__(__u64));',
        '  printf("A alignof_long %zu\\n", _Alignof(long));',
        '  printf("A alignof_ptr %zu\\n", _Alignof(void *));',
        '  printf("A alignof_aligned_u64 %zu\\n", _Alignof(__aligned_u64));',
        '  printf("A alignof_compat_u64 %zu\\n", _Alignof(compat_u64));',
        '  printf("A char_is_signed %d\\n", (char)-1 < 0);',
    ]
    for c in CASES:
        body += printer(tag(c["kind"], c["name"]), c["name"], [m["name"] for m in c["members"]])
    body += ["  return 0;", "}", ""]
    return "\n".join(parts + body)


def ref_program(c: dict) -> str:
    ref = c["ref"]
    lines = ["#include <stddef.h>", f"#include <{ref['header']}>", "int printf(const char *, ...);",
             "int main(void) {"]
    lines += printer(ref["type"], c["name"], [m["name"] for m in c["members"]], tuple(ref.get("flex", ())))
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


def compile_and_run(src: str, flags: list[str], workdir: Path, stem: str) -> tuple[str, str]:
    cfile = workdir / f"{stem}.c"
    exe = workdir / stem
    cfile.write_text(src)
    cc = subprocess.run(["gcc", *flags, *CFLAGS, "-o", str(exe), str(cfile)], capture_output=True, text=True)
    if cc.returncode != 0:
        sys.stderr.write(cc.stderr)
        raise SystemExit(f"gcc {' '.join(flags)} failed on {cfile}")
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=True)
    return run.stdout, cc.stderr


def parse(out: str) -> tuple[dict, dict]:
    info: dict = {}
    layouts: dict = {}
    for line in out.splitlines():
        kind, *rest = line.split()
        if kind == "A":
            info[rest[0]] = int(rest[1])
        elif kind == "S":
            layouts[rest[0]] = {"size": int(rest[1]), "align": int(rest[2]), "fields": []}
        elif kind == "F":
            layouts[rest[0]]["fields"].append({"name": rest[1], "offset": int(rest[2]), "size": int(rest[3])})
    return info, layouts


def warnings_by_case(stderr: str) -> dict[str, list[str]]:
    """gcc's warnings, keyed by the case whose declaration they point into."""
    found: dict[str, list[str]] = {}
    for line in stderr.splitlines():
        m = re.search(r"warning: (.*)$", line)
        if m is None:
            continue
        msg = m.group(1)
        for c in CASES:
            if re.search(rf"‘(struct|union) {re.escape(c['name'])}’", msg) or re.search(
                rf"'(struct|union) {re.escape(c['name'])}'", msg
            ):
                found.setdefault(c["name"], [])
                if msg not in found[c["name"]]:
                    found[c["name"]].append(msg)
    return found


def tool_versions() -> dict:
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    macros = subprocess.run(
        ["gcc", "-dM", "-E", "-x", "c", "-"],
        input="#include <features.h>\n#include <linux/version.h>\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    d = dict(re.findall(r"#define (\w+) (.*)", macros))
    code = int(d["LINUX_VERSION_CODE"])
    return {
        "gcc": gcc,
        "glibc": f"{d['__GLIBC__']}.{d['__GLIBC_MINOR__']}",
        "linux_uapi_headers": f"{code >> 16}.{(code >> 8) & 0xFF}.{code & 0xFF}",
    }


def main() -> None:
    declared: set[str] = set()
    seen: set[str] = set()
    for c in CASES:
        if c["name"] in seen:
            raise SystemExit(f"duplicate case {c['name']}")
        seen.add(c["name"])
        check_description(c, declared)
        declared.add(tag(c["kind"], c["name"]))

    src = main_program()
    abi_info: dict = {}
    per_abi: dict = {}
    warnings: dict = {}
    with tempfile.TemporaryDirectory(prefix="struct-edge-cases-") as tmp:
        work = Path(tmp)
        for abi, flags in ABIS.items():
            out, err = compile_and_run(src, flags, work, f"main-{abi}")
            info, layouts = parse(out)
            abi_info[abi] = info
            per_abi[abi] = layouts
            for name, msgs in warnings_by_case(err).items():
                warnings.setdefault(name, {})[abi] = msgs
            # The hand-written copies of real structs must match the real headers.
            for c in CASES:
                if "ref" not in c:
                    continue
                rout, _ = compile_and_run(ref_program(c), flags, work, f"ref-{c['name']}-{abi}")
                _, rl = parse(rout)
                mine, theirs = layouts[c["name"]], rl[c["name"]]
                flex = set(c["ref"].get("flex", ()))
                if (mine["size"], mine["align"]) != (theirs["size"], theirs["align"]):
                    raise SystemExit(f"{c['name']} ({abi}): {mine} != <{c['ref']['header']}> {theirs}")
                for a, b in zip(mine["fields"], theirs["fields"]):
                    if a["offset"] != b["offset"] or (a["name"] not in flex and a["size"] != b["size"]):
                        raise SystemExit(f"{c['name']}.{a['name']} ({abi}): {a} != <{c['ref']['header']}> {b}")

    if abi_info["i386"]["sizeof_long"] != 4 or abi_info["x86_64"]["sizeof_long"] != 8:
        raise SystemExit(f"unexpected data models: {abi_info}")

    structs = []
    for c in CASES:
        e = dict(c)
        if not e["note"]:
            del e["note"]
        if c["name"] in warnings:
            e["gcc_warnings"] = warnings[c["name"]]
        e["layouts"] = {abi: per_abi[abi][c["name"]] for abi in ABIS}
        structs.append(e)

    doc = {
        "description": "C struct/union layouts from gcc for tricky cases, on x86-64 (LP64) and i386 (ILP32); "
        "each case has its C declaration, a description of its members for the @kbridge/uapi DSL, and gcc's "
        "sizeof, _Alignof, and offsetof/sizeof of every member. Format: vectors/uapi/README.md.",
        "generator": "vectors/uapi/gen/struct-edge-cases.py",
        "command": "python3 vectors/uapi/gen/struct-edge-cases.py",
        **tool_versions(),
        "cflags": CFLAGS,
        "abis": {
            abi: {
                "gcc_flags": flags,
                "measured": abi_info[abi],
                "notes": {
                    "x86_64": "LP64: long, pointers and size_t are 8 bytes; u64 is 8-aligned everywhere.",
                    "i386": "ILP32 (System V i386 psABI): long, pointers and size_t are 4 bytes; u64/s64 "
                    "are 4-aligned inside structs and unions (_Alignof says 4, gcc's __alignof__ says the "
                    "preferred 8); __aligned_u64 restores 8.",
                }[abi],
            }
            for abi, flags in ABIS.items()
        },
        "prelude": PRELUDE,
        "structs": structs,
    }
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    differ = sum(1 for s in structs if s["layouts"]["x86_64"] != s["layouts"]["i386"])
    print(f"wrote {os.path.relpath(OUT)}: {len(structs)} cases, {differ} differ between x86_64 and i386")


if __name__ == "__main__":
    main()

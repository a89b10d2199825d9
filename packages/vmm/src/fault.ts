// What the kernel makes of a page fault: arch/x86/mm/fault.c (do_user_addr_fault, access_error, bad_area*),
// include/linux/mm_types.h (vm_fault_t VM_FAULT_*), include/uapi/asm-generic/siginfo.h (si_code values).

import { KernelError } from "@kbridge/uapi";
import { X86_PF_PROT, X86_PF_WRITE } from "./mmu.js";
import { hex } from "./page-alloc.js";
import { VM_EXEC, VM_READ, VM_WRITE } from "./pgtable.js";

/** `VM_FAULT_OOM`. */
export const VM_FAULT_OOM = 0x000001;
/** `VM_FAULT_SIGBUS`. */
export const VM_FAULT_SIGBUS = 0x000002;
/** `VM_FAULT_MAJOR`: the fault had to read the page in. */
export const VM_FAULT_MAJOR = 0x000004;
/** `VM_FAULT_SIGSEGV`. */
export const VM_FAULT_SIGSEGV = 0x000040;
/** `VM_FAULT_NOPAGE`: the handler installed the PTE itself. */
export const VM_FAULT_NOPAGE = 0x000100;
/** `VM_FAULT_ERROR`: the bits that mean the fault failed. */
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | 0x10 | 0x20;

/** `SIGBUS` (7). */
export const SIGBUS = 7;
/** `SIGSEGV` (11). */
export const SIGSEGV = 11;
/** `SEGV_MAPERR` (1): no mapping at the address. */
export const SEGV_MAPERR = 1;
/** `SEGV_ACCERR` (2): the mapping does not allow the access. */
export const SEGV_ACCERR = 2;
/** `BUS_ADRERR` (2): a nonexistent physical address (a file page past EOF, a PFN map without the page). */
export const BUS_ADRERR = 2;
/** `SI_KERNEL` (0x80): the si_code of a SIGSEGV from a #GP (a non-canonical address). */
export const SI_KERNEL = 0x80;

/**
 * A signal the kernel sends a task for a fault it cannot resolve: SIGSEGV (SEGV_MAPERR, SEGV_ACCERR, or SI_KERNEL
 * for a non-canonical address) or SIGBUS (BUS_ADRERR). Thrown by user-mode accesses of the model; it is a
 * {@link @kbridge/uapi!KernelError} with errno EFAULT.
 */
export class SignalError extends KernelError {
  /** The signal number (SIGSEGV 11, SIGBUS 7). */
  readonly signo: number;
  /** `si_code`. */
  readonly si_code: number;
  /** `si_addr`: the faulting address. */
  readonly si_addr: bigint;

  /** @internal */
  constructor(signo: number, si_code: number, si_addr: bigint) {
    super("EFAULT", `${signalName(signo, si_code)} at ${hex(si_addr)}`, { op: "page fault" });
    this.name = "SignalError";
    this.signo = signo;
    this.si_code = si_code;
    this.si_addr = si_addr;
  }
}

function signalName(signo: number, code: number): string {
  if (signo === SIGBUS) return "SIGBUS (BUS_ADRERR)";
  return code === SEGV_MAPERR
    ? "SIGSEGV (SEGV_MAPERR)"
    : code === SEGV_ACCERR
      ? "SIGSEGV (SEGV_ACCERR)"
      : "SIGSEGV (SI_KERNEL)";
}

/**
 * `access_error(error_code, vma)` (arch/x86/mm/fault.c): true when the VMA does not allow the access, so the fault
 * ends in SIGSEGV/SEGV_ACCERR (or, for a uaccess, in a short copy). A write needs VM_WRITE; a read or fetch that
 * faulted on a present page is always an error; one on a missing page needs the VMA to be accessible at all
 * (VM_READ, VM_WRITE or VM_EXEC). Instruction fetches are not checked against VM_EXEC here: the page is mapped
 * with NX and the retry faults as a protection error.
 */
export function access_error(errorCode: number, vmFlags: number): boolean {
  if (errorCode & X86_PF_WRITE) return (vmFlags & VM_WRITE) === 0;
  if (errorCode & X86_PF_PROT) return true;
  return (vmFlags & (VM_READ | VM_WRITE | VM_EXEC)) === 0;
}

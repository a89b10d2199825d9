// Whether generated code can run here, shared by the compiled codecs of kbridge's packages.

let allowed: boolean | undefined;

/**
 * Whether this runtime lets code be compiled from text (`new Function`); a strict Content-Security-Policy
 * (no `unsafe-eval`) forbids it. Probed once. The compiled struct codecs of kbridge use it to choose between
 * generated code and their loop fallbacks; a failure to compile one piece of text never turns code generation
 * off for the others.
 */
export function canGenerateCode(): boolean {
  if (allowed === undefined) {
    try {
      allowed = new Function("return 1")() === 1;
    } catch {
      allowed = false;
    }
  }
  return allowed;
}

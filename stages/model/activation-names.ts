// Activation names without the tfjs-backed implementations (importable without loading tfjs).
export type ActivationName = 'relu' | 'erf' | 'sigmoid' | 'gelu';
export const ACTIVATIONS: readonly ActivationName[] = ['relu', 'erf', 'sigmoid', 'gelu'];

// Reference slopes: the paper's measured values and our reading of the theory (science.md,
// "Fits"). Shown next to measurements, always labelled as expectations.

/** Paper, Figure 4 (A.2, MSE_test(f, f_lin) vs width), slope per learning-rate exponent alpha. */
export const PAPER_FIG4_SLOPES: Record<string, number> = { '0': -1.14, '-0.25': -1.14, '-0.5': -1.3, '-0.75': -1.73, '-1': -2.72 };

export function paperFig4Slope(alpha: number): number | null {
  return PAPER_FIG4_SLOPES[String(alpha)] ?? null;
}

/** Squared linearization error at eta = eta0 n^alpha: (n^{alpha - 1/2})^2 = n^{2 alpha - 1}. */
export function theorySquaredErrorSlope(alpha: number): number {
  return 2 * alpha - 1;
}

/** f - f_lin ~ n^{-1/2} at a fixed learning rate (Theorem 3.1 with m(n) = sqrt(n)). */
export const THEORY_ERROR_SLOPE = -0.5;

/** C^{0,d} ~ n^{-1/2} (Theorem 3.1) or n^{-d/4} (Theorem 3.2). */
export function theoryCorrelationSlopes(d: number): { thm31: number; thm32: number } {
  return { thm31: -0.5, thm32: -d / 4 };
}

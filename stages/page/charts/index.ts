// Vega-Lite chart builders (plain rows in, specs with inlined data out: nothing is ever fetched)
// and their static SVG rendering.

export type { DataRow, Scalar, TopLevelSpec } from './data.ts';
export { signed } from './data.ts';
export { defaultPanelLabel, type PanelOptions } from './facet.ts';
export { scalingChart, type FitLine, type ReferenceSlope, type ScalingChartOptions } from './scaling.ts';
export { dynamicsChart, type DynamicsChartOptions } from './dynamics.ts';
export { estimatorChart, type EstimatorChartOptions } from './estimator.ts';
export { slopesChart, type SlopeRow, type SlopesChartOptions } from './slopes.ts';
export { compileToVega, renderSvg, renumberSvgIds } from './render.ts';

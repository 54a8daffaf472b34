/**
 * The quality measures in one import, for callers that want them all: features.ts (feature rows, the
 * reference-features format, memorisation threshold), kid.ts (KID, distances, outliers), softmax.ts, f1.ts and
 * downstream.ts. New code imports the focused module.
 */
export * from './features';
export * from './kid';
export * from './softmax';
export * from './f1';
export * from './downstream';

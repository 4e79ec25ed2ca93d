// The race checker: strategies over the explore driver, exhaustive search with sleep sets,
// shrinking, counterexample files and replay.
export * from "./checker.js";
export * from "./counterexample.js";
export * from "./exhaustive.js";
export * from "./run.js";
export * from "./shrink.js";
export * from "./strategy.js";
export * from "./warm.js";

// Durations and sizes as scenarios write them.
import { describe, expect, it } from "vitest";
import { parseDurationNs, parseSizeBytes } from "../../src/scenario/units.js";

describe("units", () => {
  it("parses durations", () => {
    expect(parseDurationNs("25s")).toBe(25e9);
    expect(parseDurationNs("1.5ms")).toBe(1_500_000);
    expect(parseDurationNs("500us")).toBe(500_000);
    expect(parseDurationNs("500µs")).toBe(500_000);
    expect(parseDurationNs("2min")).toBe(120e9);
    expect(parseDurationNs(42)).toBe(42);
    for (const bad of ["25", "s", "-1s", "1.5.2s", "25 seconds", ""])
      expect(parseDurationNs(bad)).toBeUndefined();
    expect(parseDurationNs(-1)).toBeUndefined();
    expect(parseDurationNs(1.5)).toBeUndefined();
  });
  it("parses sizes, binary and decimal", () => {
    expect(parseSizeBytes("4KiB")).toBe(4096);
    expect(parseSizeBytes("20GiB")).toBe(20 * 2 ** 30);
    expect(parseSizeBytes("52GB")).toBe(52e9);
    expect(parseSizeBytes("1M")).toBe(2 ** 20);
    expect(parseSizeBytes(4096)).toBe(4096);
    for (const bad of ["4 KB B", "-4KiB", "KiB", "4kib"]) expect(parseSizeBytes(bad)).toBeUndefined();
  });
});

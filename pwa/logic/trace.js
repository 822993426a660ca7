// The traceability report (GET /api/trace) as the phone lists it. Pure: no I/O.

/** The report's `down` tree flattened depth first, each node with its `depth` (0: a direct component); `up`
 *  (the assemblies it went into, innermost first) and `runs` as they are. */
export function genealogy(report) {
  const down = [];
  const walk = (nodes, depth) => nodes.forEach((node) => { down.push({ ...node, depth }); walk(node.components ?? [], depth + 1); });
  walk(report.down ?? [], 0);
  return { down, up: report.up ?? [], runs: report.runs ?? [] };
}

// Allure 3 configuration of the HTML report (read by `python -m acceptance report` through
// bin/allure-report.mjs, and by the `allure` CLI run from the project folder).
const RUNS = 20; // how many past runs the trend charts show
const severity = (tr) => tr.labels.find((label) => label.name === "severity")?.value;

export default {
  name: "AI platform acceptance",
  output: "reports/html",
  historyPath: "reports/history.jsonl",
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        // the first page: the journeys a product owner knows, epic > feature > story
        groupBy: ["epic", "feature", "story"],
        // the Graphs page (index.html#charts): trends across the runs kept in historyPath first, then this run
        charts: [
          { type: "statusDynamics", title: "Results across runs", limit: RUNS },
          { type: "statusTransitions", title: "Status changes across runs", limit: RUNS },
          { type: "durationDynamics", title: "Run duration across runs", limit: RUNS },
          { type: "testBaseGrowthDynamics", title: "Scenarios added and removed across runs", limit: RUNS },
          { type: "stabilityDistribution", title: "Stability of the journeys (epics)", groupBy: "epic",
            skipStatuses: ["skipped", "unknown"], threshold: 90 },
          { type: "stabilityDistribution", title: "Stability of the features", groupBy: "feature",
            skipStatuses: ["skipped", "unknown"], threshold: 90 },
          { type: "currentStatus", title: "This run" },
          { type: "testResultSeverities", title: "This run by severity",
            levels: ["blocker", "critical", "normal", "minor", "trivial"],
            statuses: ["passed", "failed", "broken", "skipped", "unknown"], includeUnset: true },
        ],
      },
    },
  },
  qualityGate: {
    rules: [
      {
        // any failed or broken @critical scenario fails the gate (and the report build)
        id: "critical-scenarios",
        maxFailures: 0,
        filter: (tr) => severity(tr) === "critical",
      },
    ],
  },
};

// Allure 3 configuration of the HTML report (read by `python -m acceptance report` through
// bin/allure-report.mjs, and by the `allure` CLI run from the project folder).
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

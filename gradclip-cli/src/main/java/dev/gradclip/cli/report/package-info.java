/**
 * The self-contained HTML report (Apache ECharts inlined at build time from its WebJar), rebuilt from
 * the metrics files of one or more runs.
 */
package dev.gradclip.cli.report;

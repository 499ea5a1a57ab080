// Package metricmath parses CloudWatch-style metric math expressions such as
// "DIFF(QueriesFailed)" or "100 * QueriesFailed / (QueriesFailed +
// QueriesSucceeded)": arithmetic over metrics and numbers, and the functions
// DIFF, RATE, ABS, SUM, AVG, MIN and MAX. Identifiers name spec metrics.
package metricmath

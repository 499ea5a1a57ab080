// Package metricmath parses and evaluates CloudWatch-style metric math
// expressions such as "DIFF(QueriesFailed)" or "100 * QueriesFailed /
// (QueriesFailed + QueriesSucceeded)": arithmetic over metrics and numbers,
// and the functions DIFF, RATE, ABS, SUM, AVG, MIN and MAX. Identifiers
// name spec metrics. Eval computes an expression period by period over
// aligned series, with missing periods as NaN.
package metricmath

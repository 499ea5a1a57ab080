// Package backend holds what the warehouse backends share: the shape of a
// collection request (Want) and of its answer (Snapshot), in terms that mean
// the same on PostgreSQL and on Redshift Serverless. The dialects live in
// the subpackages postgres and redshift; pgwire runs their SQL; aws talks to
// CloudWatch and Step Functions.
package backend

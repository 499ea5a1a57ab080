package cli

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/publisher"
	"github.com/dpc-learning/dpcops/internal/spec"
)

func (a *app) publishCommand() *cobra.Command {
	var once, asLambda bool
	cmd := &cobra.Command{
		Use:   "publish --once | --lambda",
		Short: "Run the CloudWatch form's publisher: collect over the Redshift Data API and publish to CloudWatch",
		Long: `Run the publisher of the CloudWatch form. Each run is one collection
cycle: the workgroup's SQL through the Redshift Data API with the caller's
IAM identity (no password), CloudWatch and Step Functions as serve reads
them. It publishes the Custom/DPC metrics, writes failed queries and
rejected COPY rows as JSON events to the log group /dpcops/<platform>/errors
and beats the PublisherHeartbeat metric, whose alarm pages when the beats
stop. It never wakes an idle workgroup: SQL goes only to a busy one.

--once runs one cycle and prints its summary as JSON (to try the
publisher's IAM access from a shell). --lambda serves AWS Lambda
invocations; the function's bootstrap (this binary, run with no arguments
under Lambda) does so by itself. Build the function's zip with
'dpcops render lambda'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if once == asLambda {
				return usageError("publish runs one cycle (--once) or serves Lambda invocations (--lambda)")
			}
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			region := s.AWS.Region
			if region == "" {
				region = a.getenv("AWS_REGION") // Lambda sets it
			}
			if region == "" {
				return &exitError{code: exitFail, err: errors.New("aws.region is required to publish to CloudWatch")}
			}
			p, err := publisher.Open(cmd.Context(), publisher.Options{Spec: s, Logger: a.logger,
				AWS: aws.Options{Region: region, Endpoints: s.AWS.Endpoints.Map()}})
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if asLambda {
				lambda.StartWithOptions(func(ctx context.Context) (publisher.Summary, error) {
					return p.Invoke(ctx)
				}, lambda.WithContext(cmd.Context()))
				return nil
			}
			sum, err := p.Invoke(cmd.Context())
			enc := json.NewEncoder(a.io.Stdout)
			enc.SetIndent("", "  ")
			if eerr := enc.Encode(sum); eerr != nil {
				return eerr
			}
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "run one cycle, print its summary and exit")
	cmd.Flags().BoolVar(&asLambda, "lambda", false, "serve AWS Lambda invocations (the function's bootstrap does this by itself)")
	return cmd
}

// lambdaArches maps Go's architecture names to Lambda's.
var lambdaArches = map[string]string{"arm64": "arm64", "amd64": "x86_64"}

func (a *app) renderLambdaCommand() *cobra.Command {
	var out, binary, arch string
	cmd := &cobra.Command{
		Use:   "lambda --out FILE.zip",
		Short: "Package the publisher as an AWS Lambda zip (bootstrap and the spec)",
		Long: `Write the zip of the CloudWatch form's publisher function: the dpcops
binary as bootstrap (runtime provided.al2023) and the spec as dpcops.yaml.
Pass its path to the module as publisher_zip.

The binary is this one unless --binary names another; it must be built for
Linux (make lambda builds one for arm64 and packages it). --arch says its
architecture when it is not this machine's.

The function reads the spec without your environment: secrets stay out of
the zip, and a ${VAR} without a default must be in a part that is off
(enabled: if-set) or the packaging is refused, naming it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("render lambda needs --out FILE.zip")
			}
			data, name, err := a.specBytes()
			if err != nil {
				return err
			}
			if _, diags := spec.Parse(name, data, spec.Options{LookupEnv: func(string) (string, bool) { return "", false }}); diags.HasErrors() {
				for _, d := range diags.Errors() {
					fmt.Fprintln(a.io.Stderr, d.String())
				}
				return &exitError{code: exitFail, err: errors.New("the publisher could not load this spec without the environment (see above)")}
			}
			if binary == "" {
				if runtime.GOOS != "linux" {
					return usageError("this dpcops is built for " + runtime.GOOS + ": pass --binary with one built for Linux (make lambda)")
				}
				if binary, err = os.Executable(); err != nil {
					return err
				}
				if arch == "" {
					arch = lambdaArches[runtime.GOARCH]
				}
			}
			if arch != "arm64" && arch != "x86_64" {
				return usageError("--arch must be arm64 or x86_64 (Lambda's architectures)")
			}
			if err := writeLambdaZip(out, binary, data); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			fmt.Fprintf(a.io.Stdout, "wrote %s (%s): pass publisher_zip = %q and publisher_architecture = %q to the module\n", out, arch, out, arch)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the zip to write")
	cmd.Flags().StringVar(&binary, "binary", "", "the Linux dpcops binary to package (default: this one)")
	cmd.Flags().StringVar(&arch, "arch", "", "the binary's architecture: arm64 or x86_64 (default: this machine's)")
	return cmd
}

// specBytes returns the spec's text and name as loadSpec reads it.
func (a *app) specBytes() ([]byte, string, error) {
	path := a.specPath()
	switch path {
	case "":
		return spec.DefaultYAML(), "(built-in)", nil
	case "-":
		return nil, "", usageError("render lambda packages a spec file: pass -c FILE, not stdin")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", &exitError{code: exitFail, err: fmt.Errorf("read spec: %w", err)}
	}
	return b, path, nil
}

// writeLambdaZip writes bootstrap (executable) and dpcops.yaml, through a
// temporary file so that a failed write leaves no half zip behind.
func writeLambdaZip(out, binary string, specYAML []byte) (err error) {
	bin, err := os.Open(binary)
	if err != nil {
		return fmt.Errorf("read the binary: %w", err)
	}
	defer bin.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".dpcops-lambda-*.zip")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	z := zip.NewWriter(tmp)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := z.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, bin); err != nil {
		return fmt.Errorf("read the binary: %w", err)
	}
	h = &zip.FileHeader{Name: "dpcops.yaml", Method: zip.Deflate}
	h.SetMode(0o644)
	if w, err = z.CreateHeader(h); err != nil {
		return err
	}
	if _, err := w.Write(specYAML); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

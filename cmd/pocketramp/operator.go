package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/store"
)

// operatorCmd manages console operators: `operator create` adds one, with the password read
// from standard input (--password-stdin) or else a one-time set-password link printed.
func operatorCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: pocketramp operator create --email E --role admin|compliance|finance|read-only [--password-stdin]")
		return exitError(2)
	}
	fs, common := newFlags("operator create", stderr)
	email := fs.String("email", "", "the operator's e-mail (their login)")
	role := fs.String("role", "", "admin, compliance, finance or read-only")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return exitError(2)
	}
	if *email == "" || *role == "" {
		fmt.Fprintln(stderr, "--email and --role are required")
		return exitError(2)
	}
	if !operator.Role(*role).Valid() {
		fmt.Fprintf(stderr, "unknown role %q: want admin, compliance, finance or read-only\n", *role)
		return exitError(2)
	}
	password := ""
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		if password = strings.TrimRight(line, "\r\n"); password == "" {
			fmt.Fprintln(stderr, "--password-stdin: standard input is empty")
			return exitError(2)
		}
	}
	a, err := common.open(ctx, fs, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	o, setup, err := a.Operators.Create(ctx, *email, operator.Role(*role), password)
	if err != nil {
		return err
	}
	if _, err := a.Audit.Append(ctx, audit.Record{Actor: "cli", Role: string(operator.Admin), Via: "cli", Source: "localhost",
		Action: "operator.create", Target: "operator:" + o.Email, After: audit.JSON(map[string]any{"email": o.Email, "role": o.Role})}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "operator %s created with role %s\n", o.Email, o.Role)
	if setup != "" {
		fmt.Fprintf(stdout, "one-time link to set the password (valid %s):\n  %s\n", operator.SetupLinkTTL, a.Admin.SetupURL(setup))
	}
	return nil
}

// auditVerify checks the audit log's hash chain; the exit status is 1 when a record was
// altered or removed.
func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runVerify(ctx, "audit verify", args, stdout, stderr, func(ctx context.Context, db *store.DB) (report, error) {
		return audit.Verify(ctx, db)
	})
}

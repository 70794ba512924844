package ramp

import (
	"fmt"
	"slices"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Machine is a ramp's state machine over its status type S: every status, in the contract's
// order, and the moves each allows. Each ramp declares its own once, unexported, and exposes it
// through methods of S, so no caller can change a transition at run time.
type Machine[S ~string] struct {
	all  []S
	next map[S][]S
}

// NewMachine declares a state machine. It panics when next names a status that all does not
// list: a typo in a declaration is a programming error, caught by any test that loads it.
func NewMachine[S ~string](all []S, next map[S][]S) Machine[S] {
	for from, tos := range next {
		for _, s := range append([]S{from}, tos...) {
			if !slices.Contains(all, s) {
				panic(fmt.Sprintf("ramp: transition names undeclared status %q", s))
			}
		}
	}
	return Machine[S]{all: all, next: next}
}

// All returns every status in declaration order (a copy).
func (m Machine[S]) All() []S { return slices.Clone(m.all) }

// Valid reports whether s is a declared status.
func (m Machine[S]) Valid(s S) bool { return slices.Contains(m.all, s) }

// CanMove reports whether an operation may move from one status to another.
func (m Machine[S]) CanMove(from, to S) bool { return slices.Contains(m.next[from], to) }

// Next returns the statuses from may move to (a copy; empty for a final status).
func (m Machine[S]) Next(from S) []S { return slices.Clone(m.next[from]) }

// Table returns the transitions as plain strings, for the operator API (a copy).
func (m Machine[S]) Table() map[string][]string {
	out := make(map[string][]string, len(m.next))
	for from, tos := range m.next {
		out[string(from)] = Names(tos...)
	}
	return out
}

// Names returns statuses as strings.
func Names[S ~string](ss ...S) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// In returns the SQL condition "column IN (?, ...)" over statuses, and its arguments, so that
// queries selecting by status build their lists from the typed declarations.
func In[S ~string](column string, statuses ...S) (string, []any) {
	if len(statuses) == 0 {
		return "1 = 0", nil
	}
	args := make([]any, len(statuses))
	for i, s := range statuses {
		args[i] = string(s)
	}
	return column + " IN (" + store.In(len(statuses)) + ")", args
}

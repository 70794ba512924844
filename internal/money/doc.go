// Package money holds exact amounts and the decimal maths used to price
// them. Nothing here uses floating point.
//
// An Amount is an integer number of minor units (cents, wei, token base
// units) together with the asset's scale, the number of decimals between
// minor and major units: EUR 2, CLP 0, USDC 6, ETH 18. Values of any size are
// representable; the parsers reject magnitudes above MaxUnits (2^256-1), the
// largest value an EVM token balance or a NUMERIC(78,0) column holds, and
// Amount.CheckRange lets a caller apply the same bound to computed values.
//
// Amounts of different scales never mix silently: Add, Sub and Cmp panic on a
// scale mismatch, because that is a programming error (adding cents to wei),
// not an input error.
//
// # Rounding policy
//
// There is exactly one policy, and every function below follows it:
//
//   - What the customer receives rounds DOWN, toward zero, to the target's
//     minor unit (Convert, Divide). Toward zero also for negative amounts, so
//     a reversal is the exact mirror of the original conversion.
//   - Fees round HALF-UP to the minor unit of the amount they are charged on
//     (Percent): a tie (x.xx5) goes away from zero.
//   - Nothing is lost: Convert and Divide return the exact remainder that the
//     truncation dropped, so the caller can book it (to a rounding account in
//     the ledger) instead of letting value disappear.
//
// All arithmetic on rates is done on integer coefficients (math/big), so every
// intermediate is exact by construction; there is no precision setting that
// could silently round.
package money

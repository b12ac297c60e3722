package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Applicant is the gateway's payload for one license application.
type Applicant struct {
	Name        string `json:"name"`
	SSN         string `json:"ssn"`
	LicenseType string `json:"license_type"`
}

// Issued is what the applicant gets back.
type Issued struct {
	// LicenseURL is where the PDF is served (absolute).
	LicenseURL string
	// Receipt is the payment's transaction id.
	Receipt string
	// Fee and Currency are what was charged.
	Fee      json.Number
	Currency string
	// DocID is the license's id; AuditID the inspectors' record of it.
	DocID, AuditID string
	// TraceID is the trace of the four calls.
	TraceID string
}

type feeReply struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

type chargeRequest struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

type chargeReply struct {
	Txn string `json:"txn"`
}

type generateReply struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

type recordRequest struct {
	User  string      `json:"user"`
	Fee   json.Number `json:"fee"`
	DocID string      `json:"doc_id"`
}

type recordReply struct {
	ID string `json:"id"`
}

// IssueLicense runs the same-day license flow through the bridge at
// baseURL: the fee, the charge, the PDF, then the audit record.
func IssueLicense(ctx context.Context, client *http.Client, baseURL string, a Applicant) (*Issued, error) {
	c := newCaller(client, baseURL)
	var fee feeReply
	if err := c.call(ctx, "fee-calc", "/calculate", a, &fee); err != nil {
		return nil, err
	}
	if fee.Amount == "" {
		return nil, fmt.Errorf("fee-calc /calculate: reply has no amount")
	}
	var pay chargeReply
	if err := c.call(ctx, "payment", "/charge", chargeRequest{Amount: fee.Amount, Currency: fee.Currency}, &pay); err != nil {
		return nil, err
	}
	var doc generateReply
	if err := c.call(ctx, "license-printer", "/generate", a, &doc); err != nil {
		return nil, err
	}
	if doc.ID == "" || !strings.HasPrefix(doc.URL, "/v1/licenses/") {
		return nil, fmt.Errorf("license-printer /generate: reply %+v has no license id and /v1/licenses/ URL", doc)
	}
	var rec recordReply
	if err := c.call(ctx, "audit-log", "/record", recordRequest{User: a.SSN, Fee: fee.Amount, DocID: doc.ID}, &rec); err != nil {
		return nil, err
	}
	return &Issued{
		LicenseURL: baseURL + doc.URL, Receipt: pay.Txn,
		Fee: fee.Amount, Currency: fee.Currency,
		DocID: doc.ID, AuditID: rec.ID, TraceID: c.traceID,
	}, nil
}

package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// loginCookie carries the login form's CSRF value (double submit): there is no session yet to
// bind it to, and it stops another site from logging a browser into an account of its choosing.
const loginCookie = "pr_admin_login"

func (s *Server) secure() bool { return strings.HasPrefix(s.BaseURL, "https://") }

type loginData struct {
	Email, Next string
	NeedCode    bool
}

// safeNext keeps a post-login redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/admin/"
}

func (s *Server) loginGet(w http.ResponseWriter, r *http.Request, v *view) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, _, err := s.Operators.Session(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return nil
		}
	}
	return s.showLogin(w, v, http.StatusOK, loginData{Next: r.URL.Query().Get("next")})
}

func (s *Server) showLogin(w http.ResponseWriter, v *view, status int, d loginData) error {
	v.CSRF = ids.Token(24)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: v.CSRF, Path: "/admin/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteStrictMode})
	v.Title, v.Data = v.T("login.title"), d
	s.render(w, status, "login", v)
	return nil
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request, v *view) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return errcode.Field("body", "The form could not be read.")
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return errCSRF
	}
	d := loginData{Email: strings.TrimSpace(r.PostFormValue("email")), Next: r.PostFormValue("next")}
	sess, o, err := s.Operators.Login(r.Context(), d.Email, r.PostFormValue("password"), r.PostFormValue("code"), clientAddr(r))
	who := principal{Email: operator.NormalizeEmail(d.Email), Via: "console", Source: clientAddr(r)}
	switch {
	case errors.Is(err, operator.ErrCodeNeeded):
		d.NeedCode = true
		v.Error = v.T("login.code_needed")
		return s.showLogin(w, v, http.StatusUnauthorized, d)
	case errors.Is(err, operator.ErrCredentials):
		if err := s.record(r.Context(), who, "operator.login_failed", "operator:"+who.Email, nil, nil); err != nil {
			return err
		}
		v.Error = v.T("login.wrong")
		return s.showLogin(w, v, http.StatusUnauthorized, d)
	case errors.Is(err, operator.ErrThrottled):
		v.Error = v.T("login.throttled")
		return s.showLogin(w, v, http.StatusTooManyRequests, d)
	case err != nil:
		return err
	}
	who.ID, who.Role = o.ID, o.Role
	if err := s.record(r.Context(), who, "operator.login", "operator:"+o.Email, nil, nil); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/admin/", MaxAge: -1})
	// The browser keeps the cookie for the session's life; the server ends it sooner when idle.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/admin/", HttpOnly: true, Secure: s.secure(),
		SameSite: http.SameSiteStrictMode, MaxAge: int(operator.DefaultAbsoluteTimeout.Seconds())})
	http.Redirect(w, r, safeNext(d.Next), http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, v *view) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Operators.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin/", MaxAge: -1})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
	return nil
}

type setupData struct{ Email string }

func (s *Server) setupGet(w http.ResponseWriter, r *http.Request, v *view) error {
	email, err := s.Operators.SetupEmail(r.Context(), r.PathValue("token"))
	if errors.Is(err, operator.ErrSetupLink) {
		v.Title, v.Message = v.T("setup.gone.title"), v.T("setup.gone.body")
		s.render(w, http.StatusGone, "message", v)
		return nil
	}
	if err != nil {
		return err
	}
	v.Title, v.Data = v.T("setup.title"), setupData{Email: email}
	v.CSRF = ids.Token(24)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: v.CSRF, Path: "/admin/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteStrictMode})
	s.render(w, http.StatusOK, "setup", v)
	return nil
}

func (s *Server) setupPost(w http.ResponseWriter, r *http.Request, v *view) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return errcode.Field("body", "The form could not be read.")
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return errCSRF
	}
	token := r.PathValue("token")
	email, err := s.Operators.SetupEmail(r.Context(), token)
	if err != nil {
		return s.setupGet(w, r, v)
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		v.Error = v.T("setup.mismatch")
	} else if err := s.changed(r.Context(), principal{Email: email, Via: "console", Source: clientAddr(r)}, "operator.password_set", "operator:"+email, nil,
		func(ctx context.Context) (any, error) {
			_, err := s.Operators.SetPasswordWithToken(ctx, token, pw)
			return nil, err
		}); err != nil {
		var inv *errcode.Invalid
		if !errors.As(err, &inv) {
			return err
		}
		v.Error = v.T("setup.short", operator.MinPasswordLength)
	} else {
		http.Redirect(w, r, "/admin/login?flash=password_set", http.StatusSeeOther)
		return nil
	}
	v.Title, v.Data = v.T("setup.title"), setupData{Email: email}
	v.CSRF = r.PostFormValue("csrf")
	s.render(w, http.StatusUnprocessableEntity, "setup", v)
	return nil
}

type accountData struct {
	Operator    operator.Operator
	Required    bool
	Secret      string // pending TOTP secret being set up
	URI         string
	Tokens      []operator.Token
	NewToken    string // shown once
	CodeInvalid bool
}

func (s *Server) accountGet(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showAccount(w, r, v, accountData{}, http.StatusOK)
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, v *view, d accountData, status int) error {
	p := principalOf(r.Context())
	o, err := s.Operators.Get(r.Context(), p.ID)
	if err != nil {
		return err
	}
	d.Operator = o
	if d.Required, err = s.Operators.RequireTOTP(r.Context()); err != nil {
		return err
	}
	v.TOTPNote = d.Required && !o.TOTPEnabled
	if !o.TOTPEnabled {
		if secret, err := s.Operators.PendingTOTP(r.Context(), o.ID); err == nil && secret != nil {
			d.Secret, d.URI = operator.SecretText(secret), operator.OTPAuthURI(secret, "pocketramp", o.Email)
		}
	}
	if d.Tokens, err = s.Operators.Tokens(r.Context(), o.ID); err != nil {
		return err
	}
	v.flash(r)
	v.Title, v.Data = v.T("account.title"), d
	s.render(w, status, "account", v)
	return nil
}

// accountPost handles the operator's own settings: TOTP setup and API tokens.
func (s *Server) accountPost(w http.ResponseWriter, r *http.Request, v *view) error {
	p := principalOf(r.Context())
	target := "operator:" + p.Email
	switch r.PostFormValue("do") {
	case "totp_begin":
		if _, err := s.Operators.BeginTOTP(r.Context(), p.ID); err != nil {
			return err
		}
		return done(w, r, "/admin/account", "")
	case "totp_confirm":
		err := s.changed(r.Context(), p, "operator.totp_enabled", target, map[string]bool{"totp": false}, func(ctx context.Context) (any, error) {
			return map[string]bool{"totp": true}, s.Operators.EnableTOTP(ctx, p.ID, r.PostFormValue("code"))
		})
		if err != nil {
			var inv *errcode.Invalid
			if errors.As(err, &inv) {
				v.Error = v.T("account.totp_wrong")
				return s.showAccount(w, r, v, accountData{CodeInvalid: true}, http.StatusUnprocessableEntity)
			}
			return err
		}
		return done(w, r, "/admin/account", "totp_on")
	case "token_create":
		var raw string
		err := s.changed(r.Context(), p, "operator.token_create", target, nil, func(ctx context.Context) (any, error) {
			t, secret, err := s.Operators.CreateToken(ctx, p.ID, strings.TrimSpace(r.PostFormValue("name")))
			raw = secret
			return map[string]any{"token_id": t.ID, "name": t.Name}, err
		})
		var inv *errcode.Invalid
		if errors.As(err, &inv) {
			v.Error = v.T("account.token_name")
			return s.showAccount(w, r, v, accountData{}, http.StatusUnprocessableEntity)
		}
		if err != nil {
			return err
		}
		return s.showAccount(w, r, v, accountData{NewToken: raw}, http.StatusOK)
	case "token_revoke":
		id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
		err := s.changed(r.Context(), p, "operator.token_revoke", target, map[string]any{"token_id": id}, func(ctx context.Context) (any, error) {
			return nil, s.Operators.RevokeToken(ctx, p.ID, id)
		})
		if err != nil {
			return err
		}
		return done(w, r, "/admin/account", "token_revoked")
	}
	return errcode.Field("do", "Unknown action.")
}

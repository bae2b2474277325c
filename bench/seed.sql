-- Bench tenants: :n accounts 9000-0000-0000.., one member user + profile each (idempotent).
INSERT INTO accounts_account (account_number, is_default_account, is_active, company_name,
    phone_number, address1, address2, city, state, postal_code, country, language, timezone,
    currency, created_at, updated_at, require_mfa, require_sso, sso_session_max_age)
SELECT '9' || lpad((i / 10000)::text, 3, '0') || '-0000-' || lpad((i % 10000)::text, 4, '0'),
       false, true, 'Bench ' || i, '', '', '', '', '', '', '', 'en-US', 'UTC', 'USD', now(), now(), false, false, 43200
FROM generate_series(0, :n - 1) AS i
ON CONFLICT DO NOTHING;

INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
    is_active, date_joined)
SELECT '!', false, 'bench' || i, '', '', '', false, true, now()
FROM generate_series(0, :n - 1) AS i
ON CONFLICT DO NOTHING;

INSERT INTO accounts_userprofile (created_at, updated_at, name, description, version, annotations,
    role, is_active, is_test, profile_image_url, account_id, user_id, created_user)
SELECT now(), now(), '', '', '1.0.0', '{}', 'member', true, false, '', a.id, u.id, false
FROM generate_series(0, :n - 1) AS i
JOIN accounts_account a
  ON a.account_number = '9' || lpad((i / 10000)::text, 3, '0') || '-0000-' || lpad((i % 10000)::text, 4, '0')
JOIN auth_user u ON u.username = 'bench' || i
ON CONFLICT DO NOTHING;
ANALYZE accounts_account;
ANALYZE auth_user;
ANALYZE accounts_userprofile;

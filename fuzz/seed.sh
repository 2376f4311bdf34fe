#!/usr/bin/env bash
# Writes a small seed corpus for each target into fuzz/corpus/<target>/ (gitignored).
# Optional: every target starts from nothing too; seeds only shorten the way in.
# The first byte of most inputs picks a mode (see the comment atop each target).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/{form,headers,redirect_uri,scope,jose,pending,endpoints}
challenge='E9Melhoa2OwvFrEMTjguCHaoeK1t8URWbuGjSstw-cM'
redirect='https%3A%2F%2Fapp.example%2Fcb'
printf '\x00response_type=code&client_id=app&redirect_uri=%s&scope=read+write&state=xyz' "$redirect" > corpus/form/s1
printf '\x01client_id\tapp\nstate\ta+b%%c d\nscope\tread write' > corpus/form/s2
printf '\x02application/x-www-form-urlencoded; charset=utf-8\ngrant_type=client_credentials&scope=read' > corpus/form/s3
printf '\x00Basic Y29uZjpzM2NyM3Q=' > corpus/headers/s1
printf '\x01Bearer abc.def.ghi' > corpus/headers/s2
printf '\x02my client\np@ss:w+rd%%' > corpus/headers/s3
printf 'http://127.0.0.1/cb\nhttp://127.0.0.1:8080/cb' > corpus/redirect_uri/s1
printf 'https://app.example/cb?x=1\nhttps://app.example/cb?x=1' > corpus/redirect_uri/s2
printf 'com.example.app:/cb\nhttp://[::1]:9/cb' > corpus/redirect_uri/s3
printf 'read write admin:all' > corpus/scope/s1
printf '\x01{"alg":"HS256","kid":"h1","typ":"at+jwt"}\n{"iss":"https://auth.example","aud":"https://api.example","sub":"alice","client_id":"app","exp":1900000600,"iat":1900000000,"jti":"j1","scope":"read"}' > corpus/jose/s1
printf '\x02{"alg":"EdDSA","kid":"e1","typ":"application/at+jwt"}\n{"iss":"https://auth.example","aud":["x","https://api.example"],"sub":"alice","client_id":"app","exp":1900000600,"nbf":1899999999,"jti":"j1"}' > corpus/jose/s2
printf '\x03{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"e1","use":"sig","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}' > corpus/jose/s3
printf '\x03{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"k","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}' > corpus/jose/s4
printf '\x00eyJhbGciOiJIUzI1NiIsImtpZCI6ImgxIn0.e30.AAAA' > corpus/jose/s5
printf '\x01response_type=code&client_id=app&redirect_uri=%s&scope=read&state=s&code_challenge=%s&code_challenge_method=S256' "$redirect" "$challenge" > corpus/pending/s1
printf '\x00abc.def' > corpus/pending/s2
printf '\x10grant_type=authorization_code&code=$CODE&client_id=app&redirect_uri=%s&code_verifier=$VERIFIER' "$redirect" > corpus/endpoints/s1
printf '\x10grant_type=refresh_token&refresh_token=$RT&client_id=app&scope=read' > corpus/endpoints/s2
printf '\x0cgrant_type=client_credentials&scope=read+write' > corpus/endpoints/s3
printf '\x01response_type=code&client_id=app&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A5000%%2Fcb&scope=read&state=a%%0Db&code_challenge=%s&code_challenge_method=S256' "$challenge" > corpus/endpoints/s4
printf '\x1etoken=$AT&token_type_hint=refresh_token' > corpus/endpoints/s5
printf '\x1btoken=$RT\nBasic YXBwOg==' > corpus/endpoints/s6
printf '\x11response_type=code&client_id=conf&scope=openid&code_challenge=%s' "$challenge" > corpus/endpoints/s7
echo "seeded fuzz/corpus/"

#!/usr/bin/awk -f
# jsonflat - print every scalar of a JSON document as one line
# "path<TAB>value", the path being the object keys and array indexes from
# the top, joined by "/":
#
#   {"hostname": "vm1", "public_keys": {"k 1": "ssh-ed25519 AAAA c"}}
#   hostname	vm1
#   public_keys/k 1	ssh-ed25519 AAAA c
#
# Why not sed over the text: keys contain spaces, quotes can be escaped and
# Nova writes the members in any order; a tokenizer is the robust way, and
# busybox awk is all the guest has. Escapes are decoded; \n, \r and \t become
# a space so that each value stays on one line (an SSH key from Nova ends in
# "\n"), and values are printed with trailing blanks removed.
# Accepts only what it needs to: malformed input ends the output early.
BEGIN { RS = "\001" }          # the whole input is one record
{ doc = doc $0 }
END {
    n = length(doc); i = 1; d = 0
    while (i <= n) {
        c = substr(doc, i, 1)
        if (c == "{" || c == "[") {
            d++; typ[d] = c; key[d] = ""; expkey[d] = (c == "{"); idx[d] = 0
            if (c == "[") key[d] = 0
            i++
        } else if (c == "}" || c == "]") {
            d--; i++
        } else if (c == ",") {
            if (typ[d] == "{") expkey[d] = 1
            else { idx[d]++; key[d] = idx[d] }
            i++
        } else if (c == "\"") {
            s = ""; i++
            while (i <= n) {
                c = substr(doc, i, 1)
                if (c == "\"") { i++; break }
                if (c == "\\") {
                    e = substr(doc, i + 1, 1); i += 2
                    if (e == "n" || e == "r" || e == "t") s = s " "
                    else if (e == "u") {
                        v = hex(substr(doc, i, 4)); i += 4
                        s = s (v >= 32 && v < 127 ? sprintf("%c", v) : "?")
                    }
                    else s = s e         # \" \\ \/ and the rest: the character
                    continue
                }
                s = s c; i++
            }
            if (typ[d] == "{" && expkey[d]) { key[d] = s; expkey[d] = 0 }
            else emit(s)
        } else if (c ~ /[-0-9tfn]/) {
            # numbers, true, false, null: up to the next delimiter
            s = ""
            while (i <= n && index(",}] \t\r\n", substr(doc, i, 1)) == 0) { s = s substr(doc, i, 1); i++ }
            emit(s)
        } else {
            i++                          # ':' and white space
        }
    }
}
function emit(v,    p, k) {
    p = ""
    for (k = 1; k <= d; k++) p = p (k > 1 ? "/" : "") key[k]
    sub(/[ ]+$/, "", v)
    print p "\t" v
}
function hex(h,    k, v, c) {
    v = 0
    for (k = 1; k <= length(h); k++) {
        c = index("0123456789abcdef", tolower(substr(h, k, 1)))
        if (c == 0) return 0
        v = v * 16 + c - 1
    }
    return v
}

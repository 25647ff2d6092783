extension Duration {
    /// Parses a config duration: one or more `<integer><unit>` parts with units `ms`, `s`, `m`, `h`, `d`
    /// (`"250ms"`, `"30s"`, `"1h30m"`, `"30d"`), or `"0"`. Anything else (a bare number, a sign,
    /// a fraction, spaces, an unknown unit) is rejected: a typo must not become a surprising timeout.
    public init?(configText text: String) {
        if text == "0" {
            self = .zero
            return
        }
        var total = Duration.zero
        var digits = ""
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            digits = String(rest.prefix(while: { $0.isASCII && $0.isNumber }))
            guard !digits.isEmpty, digits.count <= 12, let amount = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix(while: { $0.isASCII && $0.isLetter })
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += .milliseconds(amount)
            case "s": total += .seconds(amount)
            case "m": total += .seconds(amount * 60)
            case "h": total += .seconds(amount * 3600)
            case "d": total += .seconds(amount * 86_400)
            default: return nil
            }
        }
        self = total
    }

    /// Whole milliseconds, rounded down; what libcurl and timers take.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point number, for JSON answers such as `expires_in`.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

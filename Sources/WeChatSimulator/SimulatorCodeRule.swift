import WeChat

/// What a login or phone code means to the simulator, decided from its text alone (the codes are listed in
/// README.md, "Command line"): prefixes trigger WeChat's failure answers so each can be tested on demand.
enum SimulatorCodeRule: Equatable, Sendable {
    case reject(errcode: Int, errmsg: String)
    case accept(delay: Duration?)

    static func classify(_ code: String, slowDelay: Duration) -> SimulatorCodeRule {
        if code.hasPrefix("invalid") { return .reject(errcode: 40029, errmsg: "invalid code") }
        if code.hasPrefix("busy") { return .reject(errcode: -1, errmsg: "system error") }
        if code.hasPrefix("limit") {
            return .reject(errcode: 45011, errmsg: "api minute-quota reach limit  mustslower  retry next minute")
        }
        if code.hasPrefix("blocked") { return .reject(errcode: 40226, errmsg: "invalid user, high risk user") }
        if code.hasPrefix("slow:") {
            let digits = code.dropFirst("slow:".count).prefix { $0.isASCII && $0.isNumber }
            if let milliseconds = Int(digits) { return .accept(delay: .milliseconds(milliseconds)) }
            return .accept(delay: slowDelay)
        }
        if code.hasPrefix("slow") { return .accept(delay: slowDelay) }
        return .accept(delay: nil)
    }
}

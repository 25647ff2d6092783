import Foundation
import WeChat

/// One complete HTTP request as the simulator's router sees it.
struct SimulatorRequest: Sendable {
    var method: String
    var path: String
    /// Query parameters, form-decoded (`+` is a space, like the servers WeChat runs); first wins.
    var query: [String: String]
    var body: Data

    init(method: String, uri: String, body: Data = Data()) {
        self.method = method
        self.body = body
        // A fragment is never part of a request target (RFC 9112 section 3.2); WeChat's authorize URLs end in
        // `#wechat_redirect`, which a browser keeps to itself but a hand-written client may send.
        let target = uri.prefix { $0 != "#" }
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = parts.first.map(String.init) ?? "/"
        self.query = parts.count > 1 ? Self.parseQuery(String(parts[1])) : [:]
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = formDecode(keyValue[0])
            let value = keyValue.count > 1 ? formDecode(keyValue[1]) : ""
            if result[key] == nil { result[key] = value }
        }
        return result
    }

    private static func formDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

import JSON
import WeChat

/// The simulator's answer to one request: a status, a JSON body and an optional hold time. The web login pages
/// (`/connect/…`) answer with a redirect (`location`) or an HTML page (`page`) instead of JSON.
struct SimulatorResponse: Sendable, Equatable {
    var status: Int
    var body: JSONValue
    /// Held this long before it is sent, to let clients exercise their timeouts.
    var delay: Duration?
    /// The `Location` of a redirect.
    var location: String?
    /// An HTML page sent instead of `body` (what a browser inside WeChat would show).
    var page: String?

    init(status: Int = 200, body: JSONValue, delay: Duration? = nil) {
        self.status = status
        self.body = body
        self.delay = delay
    }

    /// WeChat's error shape: HTTP 200 with errcode and errmsg ("全局返回码" / global return codes).
    static func error(_ errcode: Int, _ errmsg: String, status: Int = 200) -> SimulatorResponse {
        SimulatorResponse(
            status: status,
            body: .object(["errcode": .int(errcode), "errmsg": .string(errmsg + ", rid: " + SimulatorRandom.rid())])
        )
    }

    /// A 302 to `location`, with the short page browsers show while they follow it.
    static func redirect(to location: String) -> SimulatorResponse {
        var response = SimulatorResponse(status: 302, body: .null)
        response.location = location
        response.page =
            "<!doctype html><title>Redirecting</title><p>Redirecting to "
            + SimulatorHTML.escape(location) + "</p>\n"
        return response
    }

    /// The error page WeChat's authorize pages show for a bad request (e.g. "redirect_uri 参数错误"); never a redirect.
    static func errorPage(_ message: String, status: Int = 400) -> SimulatorResponse {
        var response = SimulatorResponse(status: status, body: .null)
        response.page =
            "<!doctype html><title>WeChat simulator</title><h1>" + SimulatorHTML.escape(message)
            + "</h1>\n"
        return response
    }
}

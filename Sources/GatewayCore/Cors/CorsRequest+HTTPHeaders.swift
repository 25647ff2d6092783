import NIOHTTP1

extension CorsRequest {
    /// Reads the CORS fields of a NIO request head in one pass (run only when `[cors]` is configured).
    init(method: HTTPMethod, headers: HTTPHeaders, isWebSocketUpgrade: Bool) {
        var origin: String?
        var originCount = 0
        var requestMethod: String?
        for (name, value) in headers {
            switch name.utf8.count {
            case 6 where ASCIICase.equals(name, "origin"):
                if originCount == 0 { origin = value }
                originCount += 1
            case 29 where ASCIICase.equals(name, "access-control-request-method"):
                if requestMethod == nil { requestMethod = value }
            default:
                break
            }
        }
        self.init(
            method: method.rawValue, origin: origin, originCount: originCount, requestMethod: requestMethod,
            isWebSocketUpgrade: isWebSocketUpgrade)
    }
}

import Tracing

/// The tracer's view of a few header fields, by lower-case name: what `RequestTracer` hands swift-otel's W3C
/// propagator to read a caller's context and to write the next hop's.
struct HeaderCarrier: Extractor, Injector {
    typealias Carrier = [String: String]

    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }

    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

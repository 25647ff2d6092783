/* Additional changes for this gateway (from SwiftNIO's copy, whose c_nio_ prefix became gw_):
    - prefixed all symbols by 'gw_'
*/
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "include/gw_llhttp.h"

#define CALLBACK_MAYBE(PARSER, NAME)                                          \
  do {                                                                        \
    const gw_llhttp_settings_t* settings;                                        \
    settings = (const gw_llhttp_settings_t*) (PARSER)->settings;                 \
    if (settings == NULL || settings->NAME == NULL) {                         \
      err = 0;                                                                \
      break;                                                                  \
    }                                                                         \
    err = settings->NAME((PARSER));                                           \
  } while (0)

#define SPAN_CALLBACK_MAYBE(PARSER, NAME, START, LEN)                         \
  do {                                                                        \
    const gw_llhttp_settings_t* settings;                                        \
    settings = (const gw_llhttp_settings_t*) (PARSER)->settings;                 \
    if (settings == NULL || settings->NAME == NULL) {                         \
      err = 0;                                                                \
      break;                                                                  \
    }                                                                         \
    err = settings->NAME((PARSER), (START), (LEN));                           \
    if (err == -1) {                                                          \
      err = GW_HPE_USER;                                                         \
      gw_llhttp_set_error_reason((PARSER), "Span callback error in " #NAME);     \
    }                                                                         \
  } while (0)

void gw_llhttp_init(gw_llhttp_t* parser, gw_llhttp_type_t type,
                 const gw_llhttp_settings_t* settings) {
  gw_llhttp__internal_init(parser);

  parser->type = type;
  parser->settings = (void*) settings;
}


#if defined(__wasm__)

extern int wasm_on_message_begin(gw_llhttp_t * p);
extern int wasm_on_url(gw_llhttp_t* p, const char* at, size_t length);
extern int wasm_on_status(gw_llhttp_t* p, const char* at, size_t length);
extern int wasm_on_header_field(gw_llhttp_t* p, const char* at, size_t length);
extern int wasm_on_header_value(gw_llhttp_t* p, const char* at, size_t length);
extern int wasm_on_headers_complete(gw_llhttp_t * p, int status_code,
                                    uint8_t upgrade, int should_keep_alive);
extern int wasm_on_body(gw_llhttp_t* p, const char* at, size_t length);
extern int wasm_on_message_complete(gw_llhttp_t * p);

static int wasm_on_headers_complete_wrap(gw_llhttp_t* p) {
  return wasm_on_headers_complete(p, p->status_code, p->upgrade,
                                  gw_llhttp_should_keep_alive(p));
}

const gw_llhttp_settings_t wasm_settings = {
  .on_message_begin = wasm_on_message_begin,
  .on_url = wasm_on_url,
  .on_status = wasm_on_status,
  .on_header_field = wasm_on_header_field,
  .on_header_value = wasm_on_header_value,
  .on_headers_complete = wasm_on_headers_complete_wrap,
  .on_body = wasm_on_body,
  .on_message_complete = wasm_on_message_complete,
};


gw_llhttp_t* gw_llhttp_alloc(gw_llhttp_type_t type) {
  gw_llhttp_t* parser = malloc(sizeof(gw_llhttp_t));
  gw_llhttp_init(parser, type, &wasm_settings);
  return parser;
}

void gw_llhttp_free(gw_llhttp_t* parser) {
  free(parser);
}

#endif  // defined(__wasm__)

/* Some getters required to get stuff from the parser */

uint8_t gw_llhttp_get_type(gw_llhttp_t* parser) {
  return parser->type;
}

uint8_t gw_llhttp_get_http_major(gw_llhttp_t* parser) {
  return parser->http_major;
}

uint8_t gw_llhttp_get_http_minor(gw_llhttp_t* parser) {
  return parser->http_minor;
}

uint8_t gw_llhttp_get_method(gw_llhttp_t* parser) {
  return parser->method;
}

int gw_llhttp_get_status_code(gw_llhttp_t* parser) {
  return parser->status_code;
}

uint8_t gw_llhttp_get_upgrade(gw_llhttp_t* parser) {
  return parser->upgrade;
}


void gw_llhttp_reset(gw_llhttp_t* parser) {
  gw_llhttp_type_t type = parser->type;
  const gw_llhttp_settings_t* settings = parser->settings;
  void* data = parser->data;
  uint16_t lenient_flags = parser->lenient_flags;

  gw_llhttp__internal_init(parser);

  parser->type = type;
  parser->settings = (void*) settings;
  parser->data = data;
  parser->lenient_flags = lenient_flags;
}


gw_llhttp_errno_t gw_llhttp_execute(gw_llhttp_t* parser, const char* data, size_t len) {
  return gw_llhttp__internal_execute(parser, data, data + len);
}


void gw_llhttp_settings_init(gw_llhttp_settings_t* settings) {
  memset(settings, 0, sizeof(*settings));
}


gw_llhttp_errno_t gw_llhttp_finish(gw_llhttp_t* parser) {
  int err;

  /* We're in an error state. Don't bother doing anything. */
  if (parser->error != 0) {
    return 0;
  }

  switch (parser->finish) {
    case GW_HTTP_FINISH_SAFE_WITH_CB:
      CALLBACK_MAYBE(parser, on_message_complete);
      if (err != GW_HPE_OK) return err;

    /* FALLTHROUGH */
    case GW_HTTP_FINISH_SAFE:
      return GW_HPE_OK;
    case GW_HTTP_FINISH_UNSAFE:
      parser->reason = "Invalid EOF state";
      return GW_HPE_INVALID_EOF_STATE;
    default:
      abort();
  }
}


void gw_llhttp_pause(gw_llhttp_t* parser) {
  if (parser->error != GW_HPE_OK) {
    return;
  }

  parser->error = GW_HPE_PAUSED;
  parser->reason = "Paused";
}


void gw_llhttp_resume(gw_llhttp_t* parser) {
  if (parser->error != GW_HPE_PAUSED) {
    return;
  }

  parser->error = 0;
}


void gw_llhttp_resume_after_upgrade(gw_llhttp_t* parser) {
  if (parser->error != GW_HPE_PAUSED_UPGRADE) {
    return;
  }

  parser->error = 0;
}


gw_llhttp_errno_t gw_llhttp_get_errno(const gw_llhttp_t* parser) {
  return parser->error;
}


const char* gw_llhttp_get_error_reason(const gw_llhttp_t* parser) {
  return parser->reason;
}


void gw_llhttp_set_error_reason(gw_llhttp_t* parser, const char* reason) {
  parser->reason = reason;
}


const char* gw_llhttp_get_error_pos(const gw_llhttp_t* parser) {
  return parser->error_pos;
}


const char* gw_llhttp_errno_name(gw_llhttp_errno_t err) {
#define GW_HTTP_ERRNO_GEN(CODE, NAME, _) case GW_HPE_##NAME: return "GW_HPE_" #NAME;
  switch (err) {
    GW_HTTP_ERRNO_MAP(GW_HTTP_ERRNO_GEN)
    default: abort();
  }
#undef GW_HTTP_ERRNO_GEN
}


const char* gw_llhttp_method_name(gw_llhttp_method_t method) {
#define GW_HTTP_METHOD_GEN(NUM, NAME, STRING) case GW_HTTP_##NAME: return #STRING;
  switch (method) {
    GW_HTTP_ALL_METHOD_MAP(GW_HTTP_METHOD_GEN)
    default: abort();
  }
#undef GW_HTTP_METHOD_GEN
}

const char* gw_llhttp_status_name(gw_llhttp_status_t status) {
#define GW_HTTP_STATUS_GEN(NUM, NAME, STRING) case GW_HTTP_STATUS_##NAME: return #STRING;
  switch (status) {
    GW_HTTP_STATUS_MAP(GW_HTTP_STATUS_GEN)
    default: abort();
  }
#undef GW_HTTP_STATUS_GEN
}


void gw_llhttp_set_lenient_headers(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_HEADERS;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_HEADERS;
  }
}


void gw_llhttp_set_lenient_chunked_length(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_CHUNKED_LENGTH;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_CHUNKED_LENGTH;
  }
}


void gw_llhttp_set_lenient_keep_alive(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_KEEP_ALIVE;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_KEEP_ALIVE;
  }
}

void gw_llhttp_set_lenient_transfer_encoding(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_TRANSFER_ENCODING;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_TRANSFER_ENCODING;
  }
}

void gw_llhttp_set_lenient_version(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_VERSION;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_VERSION;
  }
}

void gw_llhttp_set_lenient_data_after_close(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_DATA_AFTER_CLOSE;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_DATA_AFTER_CLOSE;
  }
}

void gw_llhttp_set_lenient_optional_lf_after_cr(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_OPTIONAL_LF_AFTER_CR;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_OPTIONAL_LF_AFTER_CR;
  }
}

void gw_llhttp_set_lenient_optional_crlf_after_chunk(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_OPTIONAL_CRLF_AFTER_CHUNK;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_OPTIONAL_CRLF_AFTER_CHUNK;
  }
}

void gw_llhttp_set_lenient_optional_cr_before_lf(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_OPTIONAL_CR_BEFORE_LF;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_OPTIONAL_CR_BEFORE_LF;
  }
}

void gw_llhttp_set_lenient_spaces_after_chunk_size(gw_llhttp_t* parser, int enabled) {
  if (enabled) {
    parser->lenient_flags |= GW_LENIENT_SPACES_AFTER_CHUNK_SIZE;
  } else {
    parser->lenient_flags &= ~GW_LENIENT_SPACES_AFTER_CHUNK_SIZE;
  }
}

/* Callbacks */


int gw_llhttp__on_message_begin(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_message_begin);
  return err;
}


int gw_llhttp__on_protocol(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_protocol, p, endp - p);
  return err;
}


int gw_llhttp__on_protocol_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_protocol_complete);
  return err;
}


int gw_llhttp__on_url(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_url, p, endp - p);
  return err;
}


int gw_llhttp__on_url_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_url_complete);
  return err;
}


int gw_llhttp__on_status(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_status, p, endp - p);
  return err;
}


int gw_llhttp__on_status_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_status_complete);
  return err;
}


int gw_llhttp__on_method(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_method, p, endp - p);
  return err;
}


int gw_llhttp__on_method_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_method_complete);
  return err;
}


int gw_llhttp__on_version(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_version, p, endp - p);
  return err;
}


int gw_llhttp__on_version_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_version_complete);
  return err;
}


int gw_llhttp__on_header_field(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_header_field, p, endp - p);
  return err;
}


int gw_llhttp__on_header_field_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_header_field_complete);
  return err;
}


int gw_llhttp__on_header_value(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_header_value, p, endp - p);
  return err;
}


int gw_llhttp__on_header_value_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_header_value_complete);
  return err;
}


int gw_llhttp__on_headers_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_headers_complete);
  return err;
}


int gw_llhttp__on_message_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_message_complete);
  return err;
}


int gw_llhttp__on_body(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_body, p, endp - p);
  return err;
}


int gw_llhttp__on_chunk_header(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_chunk_header);
  return err;
}


int gw_llhttp__on_chunk_extension_name(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_chunk_extension_name, p, endp - p);
  return err;
}


int gw_llhttp__on_chunk_extension_name_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_chunk_extension_name_complete);
  return err;
}


int gw_llhttp__on_chunk_extension_value(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  SPAN_CALLBACK_MAYBE(s, on_chunk_extension_value, p, endp - p);
  return err;
}


int gw_llhttp__on_chunk_extension_value_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_chunk_extension_value_complete);
  return err;
}


int gw_llhttp__on_chunk_complete(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_chunk_complete);
  return err;
}


int gw_llhttp__on_reset(gw_llhttp_t* s, const char* p, const char* endp) {
  int err;
  CALLBACK_MAYBE(s, on_reset);
  return err;
}


/* Private */


void gw_llhttp__debug(gw_llhttp_t* s, const char* p, const char* endp,
                   const char* msg) {
  if (p == endp) {
    fprintf(stderr, "p=%p type=%d flags=%02x next=null debug=%s\n", s, s->type,
            s->flags, msg);
  } else {
    fprintf(stderr, "p=%p type=%d flags=%02x next=%02x   debug=%s\n", s,
            s->type, s->flags, *p, msg);
  }
}

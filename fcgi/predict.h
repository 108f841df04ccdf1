/* POST /predict: one image in (multipart, raw image body or JSON), one digit out. */
#ifndef FCGI_PREDICT_H
#define FCGI_PREDICT_H

#include "service.h"

handler_fn handle_predict;

#endif

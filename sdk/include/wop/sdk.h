// The wasm-operator guest SDK: include this one header. docs/sdk.md is the guide.
#pragma once

#include "wop/call.h"
#include "wop/client.h"
#include "wop/config.h"
#include "wop/controller.h"
#include "wop/http.h"
#include "wop/kind.h"
#include "wop/log.h"
#include "wop/object.h"
#include "wop/operator.h"
#include "wop/read_result.h"
#include "wop/reconciler.h"
#include "wop/response.h"
#include "wop/result.h"
#include "wop/task.h"

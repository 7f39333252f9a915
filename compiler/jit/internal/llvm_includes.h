// The LLVM headers code generation needs, with their warnings silenced.
#ifndef QM_COMPILER_JIT_INTERNAL_LLVM_INCLUDES_H_
#define QM_COMPILER_JIT_INTERNAL_LLVM_INCLUDES_H_

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wredundant-move"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#pragma GCC diagnostic pop

#endif  // QM_COMPILER_JIT_INTERNAL_LLVM_INCLUDES_H_

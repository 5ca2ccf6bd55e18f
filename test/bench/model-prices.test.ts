import { expect } from "chai";
import { MODEL_PRICES, modelCostUsd } from "../../bench/model-prices";
import { DEFAULT_MODEL_ID } from "../../infra/config";

describe("bench: model prices", () => {
  it("price the program's default model: a global profile, billed at the list price (geographic ones cost 10% more)", () => {
    expect(MODEL_PRICES.modelId).to.equal(DEFAULT_MODEL_ID);
    expect(DEFAULT_MODEL_ID.startsWith("global.")).to.equal(true);
    expect([MODEL_PRICES.inputPerMillion, MODEL_PRICES.outputPerMillion]).to.deep.equal([1, 5]);
    expect(modelCostUsd(1_000_000, 200_000)).to.be.closeTo(2, 1e-9);
  });
});
